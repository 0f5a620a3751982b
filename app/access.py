"""Every "who may do what to which object" rule of Pillars, in one table (DESIGN §5).

`can(user, action, obj)` answers a question; `require(user, action, obj)` aborts with 403 (or 404
when the object must not even be known to exist). Templates get ``can`` as a global so buttons
follow the same rules. Workflow events name an actor rule (``TransitionSpec.by``) resolved here by
`may_fire`. Queries made here are cached per request in ``flask.g``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, g
from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, Review, Role, User
from workflows import AssignmentStatus, CycleStatus, ReviewStatus, TransitionSpec

R = ReviewStatus
A = AssignmentStatus

#: Reviewer assignment statuses that are on the team (may see the self-assessment).
TEAM = (A.ACCEPTED, A.SUBMITTED)
#: Reviewer assignment statuses that may see anything at all of the review.
VISIBLE_TO_REVIEWER = (A.INVITED, A.ACCEPTED, A.SUBMITTED)
#: Review statuses from which the state sees the draft report (DESIGN §5).
REPORT_VISIBLE_TO_STATE = (R.FACTUAL_CHECK, R.RESPONSE, R.FOLLOW_UP, R.ENHANCED_FOLLOW_UP, R.CLOSED)
FOLLOW_UP = (R.FOLLOW_UP, R.ENHANCED_FOLLOW_UP)
#: Review statuses after the secretariat adopted the report (``adopt_report``): the state may
#: decide on publication from then on (issue 5).
REPORT_ADOPTED = (R.RESPONSE, R.FOLLOW_UP, R.ENHANCED_FOLLOW_UP, R.CLOSED)
#: Review statuses in which the secretariat may generate a mid-term report.
MIDTERM = (R.FOLLOW_UP, R.ENHANCED_FOLLOW_UP, R.CLOSED)


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_secretariat(user: Any) -> bool:
    return _authenticated(user) and user.role == Role.SECRETARIAT


def is_focal_point_of(user: Any, review: Review) -> bool:
    """A focal point of the reviewed state."""
    return (
        _authenticated(user) and user.role == Role.FOCAL_POINT and user.state_id == review.state_id
    )


def assignment_of(user: Any, review: Review) -> Assignment | None:
    """The user's assignment on ``review`` (one at most: unique per review and reviewer)."""
    if not _authenticated(user) or user.role != Role.REVIEWER:
        return None
    cache = g.setdefault("_assignment_cache", {})
    key = (user.id, review.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(Assignment).where(
                Assignment.review_id == review.id, Assignment.reviewer_id == user.id
            )
        )
    return cache[key]


def forget_cached_assignments() -> None:
    """Drop the per-request cache after an assignment changed status."""
    g.pop("_assignment_cache", None)


def _reviewer_status_in(user: Any, review: Review, statuses: tuple) -> bool:
    """The user's assignment on ``review`` is in ``statuses``; a withdrawn review is closed to
    every reviewer (nothing of it stays open to them)."""
    if review.status == R.WITHDRAWN:
        return False
    assignment = assignment_of(user, review)
    return assignment is not None and assignment.status in statuses


def is_team_member(user: Any, review: Review) -> bool:
    """An accepted (or submitted) reviewer of the review."""
    return _reviewer_status_in(user, review, TEAM)


def is_lead_reviewer(user: Any, review: Review) -> bool:
    assignment = assignment_of(user, review)
    return (
        assignment is not None
        and assignment.is_lead
        and assignment.status in TEAM
        and review.status != R.WITHDRAWN
    )


def _view_review(user: Any, review: Review) -> bool:
    return (
        is_secretariat(user)
        or is_focal_point_of(user, review)
        or _reviewer_status_in(user, review, VISIBLE_TO_REVIEWER)
    )


#: Statuses in which the self-assessment is still the state's draft: the review team (invited
#: and accepted alike) sees it only once the secretariat has accepted it (DESIGN §5).
SELF_ASSESSMENT_DRAFT = frozenset({R.SELF_ASSESSMENT, R.SCREENING})


def _view_self_assessment(user: Any, review: Review) -> bool:
    return (
        is_secretariat(user)
        or is_focal_point_of(user, review)
        or (is_team_member(user, review) and review.status not in SELF_ASSESSMENT_DRAFT)
    )


def _view_evaluation(user: Any, assignment: Assignment) -> bool:
    """Secretariat; the reviewer themself (while on the team); the lead; co-reviewers only after
    submitting their own evaluation (DESIGN §5). Focal points never."""
    if is_secretariat(user):
        return True
    review = assignment.review
    if not is_team_member(user, review):
        return False
    own = assignment_of(user, review)
    if own.id == assignment.id:
        return True
    return own.is_lead or own.status == A.SUBMITTED


def _edit_evaluation(user: Any, assignment: Assignment) -> bool:
    return (
        _authenticated(user)
        and assignment.reviewer_id == user.id
        and assignment.status == A.ACCEPTED
        and assignment.review.status == R.EVALUATION
    )


def _view_report(user: Any, review: Review) -> bool:
    """The report is derived from the team's evaluations, so a co-reviewer sees it only once
    their own evaluation is submitted (the lead always, DESIGN §5); the state from factual check."""
    if is_secretariat(user) or is_lead_reviewer(user, review):
        return True
    if _reviewer_status_in(user, review, (A.SUBMITTED,)):
        return True
    return is_focal_point_of(user, review) and review.status in REPORT_VISIBLE_TO_STATE


def _view_assignment(user: Any, assignment: Assignment) -> bool:
    """The invitation page: the secretariat, or the reviewer while invited or on the team."""
    if is_secretariat(user):
        return True
    return (
        _authenticated(user)
        and assignment.reviewer_id == user.id
        and assignment.status in VISIBLE_TO_REVIEWER
        and assignment.review.status != R.WITHDRAWN
    )


#: The rule table. Keys are actions; values take (user, object) and answer True or False.
RULES: dict[str, Callable[[Any, Any], bool]] = {
    "admin": lambda user, _obj: is_secretariat(user),
    # the account audit log and its export (issue 14): the secretariat
    "audit.view": lambda user, _obj: is_secretariat(user),
    # one's own second factor: set it up, renew the recovery codes
    "account.two_factor": lambda user, target: _authenticated(user) and user.id == target.id,
    # removing someone's second factor (a lost phone): another secretariat member, never oneself
    "two_factor.reset": lambda user, target: is_secretariat(user) and user.id != target.id,
    # which roles must use a second factor
    "two_factor.policy": lambda user, _obj: is_secretariat(user),
    "review.view": _view_review,
    # who among the review team did something (history, notices): never the reviewed state's
    # accounts, who must not learn who reviews them (DESIGN §5; issue 14)
    "review.reviewer_names": lambda user, review: (
        _authenticated(user) and not is_focal_point_of(user, review)
    ),
    "review.view_history": lambda user, review: (
        is_secretariat(user) or is_focal_point_of(user, review) or is_team_member(user, review)
    ),
    "self_assessment.view": _view_self_assessment,
    "self_assessment.edit": lambda user, review: (
        is_focal_point_of(user, review)
        and review.status == R.SELF_ASSESSMENT
        and review.cycle.status == CycleStatus.OPEN
    ),
    "evaluation.list": lambda user, review: is_secretariat(user) or is_team_member(user, review),
    "evaluation.view": _view_evaluation,
    # whether an evaluation was submitted is derived from it: a co-reviewer learns it (and how
    # many of the team are done) only once their own is submitted, as for the text (DESIGN §5)
    "evaluation.view_status": _view_evaluation,
    "evaluation.edit": _edit_evaluation,
    # the reviewer themself, whatever the status: a refused save shows them back their text
    "evaluation.author": lambda user, assignment: (
        _authenticated(user) and assignment.reviewer_id == user.id
    ),
    "assignment.view": _view_assignment,
    "assignment.fire": lambda user, assignment: (
        _view_assignment(user, assignment) or is_lead_reviewer(user, assignment.review)
    ),
    # an unsubmitted evaluation's text: its reviewer and the secretariat only (DESIGN §5)
    "evaluation.view_draft": lambda user, assignment: (
        is_secretariat(user) or (_authenticated(user) and assignment.reviewer_id == user.id)
    ),
    "assignment.manage": lambda user, _review: is_secretariat(user),
    # draws by lot and the reviewer pool name reviewers and their workload: secretariat only
    "draw.manage": lambda user, _cycle: is_secretariat(user),
    "pool.view": lambda user, _cycle: is_secretariat(user),
    # moving a stage deadline, with a reason (DESIGN §8): the secretariat, while the review runs
    # which reminders went out for the review's deadlines: the secretariat only (an outbox view)
    "reminders.view": lambda user, review: is_secretariat(user),
    "deadline.edit": lambda user, review: (
        is_secretariat(user) and review.status not in (R.CLOSED, R.WITHDRAWN)
    ),
    "report.view": _view_report,
    "report.edit": lambda user, review: (
        is_lead_reviewer(user, review) and review.status == R.EVALUATION
    ),
    # the lead, whatever the review's status: a refused save shows them back their text
    "report.draft_author": lambda user, review: is_lead_reviewer(user, review),
    "report.comment": lambda user, review: (
        is_focal_point_of(user, review) and review.status == R.FACTUAL_CHECK
    ),
    "response.edit": lambda user, review: (
        is_focal_point_of(user, review) and review.status == R.RESPONSE
    ),
    "progress.post": lambda user, review: (
        is_focal_point_of(user, review) and review.status in FOLLOW_UP
    ),
    "assessment.post": lambda user, review: is_secretariat(user) and review.status in FOLLOW_UP,
    "recommendations.view": lambda user, review: _view_report(user, review),
    # the state's prior UPR recommendations (public UN data, but shown only to those working on
    # the review: the secretariat, the state's focal points, accepted reviewers)
    "prior_recommendations.view": lambda user, review: (
        is_secretariat(user) or is_focal_point_of(user, review) or is_team_member(user, review)
    ),
    # publication consent: the state's focal point decides once the report is adopted; the
    # secretariat sees the decision and its history (issue 5; UNCAC: published only with consent)
    "publication.view": lambda user, review: (
        (is_secretariat(user) or is_focal_point_of(user, review))
        and review.status in REPORT_ADOPTED
    ),
    "publication.set": lambda user, review: (
        is_focal_point_of(user, review) and review.status in REPORT_ADOPTED
    ),
    # mid-term reports are monitoring between the state and the secretariat: the review team's
    # task ended with the report, other states never see them unless published
    "midterm.view": lambda user, review: is_secretariat(user) or is_focal_point_of(user, review),
    "midterm.manage": lambda user, review: is_secretariat(user) and review.status in MIDTERM,
    # a state's reviews across cycles: the secretariat, and that state's own focal points
    "state.history": lambda user, state: (
        is_secretariat(user)
        or (_authenticated(user) and user.role == Role.FOCAL_POINT and user.state_id == state.id)
    ),
    # a file is seen by whoever sees the self-assessment it supports (DESIGN §5: "files" too)
    # an in-app notification is its recipient's alone (the secretariat reads e-mails on the outbox)
    "notification.view": lambda user, note: bool(
        getattr(user, "is_authenticated", False) and note.recipient_id == user.id
    ),
    "evidence.view": lambda user, evidence: (
        evidence.removed_at is None and _view_self_assessment(user, evidence.review)
    ),
    # removed only while the self-assessment is editable: never once submitted
    "evidence.remove": lambda user, evidence: (
        evidence.removed_at is None
        and evidence.question_id is not None
        and RULES["self_assessment.edit"](user, evidence.review)
    ),
}


def can(user: Any, action: str, obj: Any = None) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj``.

    Raises:
        KeyError: for an action nobody classified (a programming error, never a silent yes).
    """
    return bool(RULES[action](user, obj))


def require(user: Any, action: str, obj: Any = None, *, hide: bool = False) -> None:
    """Abort the request unless ``can(user, action, obj)``: 404 when ``hide`` else 403."""
    if not can(user, action, obj):
        abort(404 if hide else 403)


#: Actor rules named by `TransitionSpec.by` in ``workflows/``.
ACTOR_RULES: dict[str, Callable[[Any, Any], bool]] = {
    "secretariat": lambda user, _subject: is_secretariat(user),
    "focal_point": lambda user, review: is_focal_point_of(user, review),
    "lead_reviewer": lambda user, review: is_lead_reviewer(user, review),
    "assigned_reviewer": lambda user, assignment: (
        _authenticated(user) and assignment.reviewer_id == user.id
    ),
    "secretariat_or_lead": lambda user, assignment: (
        is_secretariat(user) or is_lead_reviewer(user, assignment.review)
    ),
}


def may_fire(user: Any, spec: TransitionSpec, subject: Any) -> bool:
    """Whether ``user`` is the actor the transition table names for ``spec`` on ``subject``."""
    return bool(ACTOR_RULES[spec.by](user, subject))


def visible_review_ids_clause(user: User):
    """A SQL condition on `Review` limiting a listing to reviews ``user`` may view."""
    if is_secretariat(user):
        return Review.id.is_not(None)
    if user.role == Role.FOCAL_POINT:
        return Review.state_id == user.state_id
    return Review.id.in_(
        select(Assignment.review_id).where(
            Assignment.reviewer_id == user.id, Assignment.status.in_(VISIBLE_TO_REVIEWER)
        )
    ) & (Review.status != R.WITHDRAWN)


def visible_recommendations_clause(user: User):
    """A SQL condition on `Review` limiting recommendations (exports, lists, counts) to those of
    reports ``user`` may read on screen (``report.view``, DESIGN §5): the secretariat all; a focal
    point its own state's from factual check on; a reviewer those of reviews where they lead the
    team or submitted their evaluation (never of a withdrawn review); anyone else nothing."""
    if is_secretariat(user):
        return Review.id.is_not(None)
    if not _authenticated(user):
        return Review.id.is_(None)
    if user.role == Role.FOCAL_POINT:
        return (Review.state_id == user.state_id) & Review.status.in_(REPORT_VISIBLE_TO_STATE)
    mine = select(Assignment.review_id).where(
        Assignment.reviewer_id == user.id,
        (Assignment.status == A.SUBMITTED)
        | (Assignment.is_lead.is_(True) & Assignment.status.in_(TEAM)),
    )
    return Review.id.in_(mine) & (Review.status != R.WITHDRAWN)
