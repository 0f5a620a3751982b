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
from app.models import (
    Assignment,
    AssistanceRequest,
    Offer,
    OfferStatus,
    Programme,
    ProgrammeStatus,
    RequestStatus,
    Review,
    Role,
    StakeholderSubmission,
    SubmissionStatus,
    User,
)
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


#: Review statuses in which the state's focal points write their action plan (issue 17: from
#: the response phase on, while the review runs).
PLAN_EDITABLE = (R.RESPONSE, R.FOLLOW_UP, R.ENHANCED_FOLLOW_UP)


def _view_action_plan(user: Any, review: Review) -> bool:
    """The action plan (issue 17): the secretariat; the state's focal points once the report is
    adopted. Reviewers never (their task ended with the adopted report), other states never."""
    return is_secretariat(user) or (
        is_focal_point_of(user, review) and review.status in REPORT_ADOPTED
    )


def _public_action_plan(_user: Any, review: Review) -> bool:
    """Published only with the state's full consent (then without budget lines); a summary
    consent publishes nothing of the plan (issue 17)."""
    from app.models import ConsentLevel
    from app.services.publication import public_report_level

    return public_report_level(review.id) == ConsentLevel.FULL


def _view_evidence(user: Any, record: Any) -> bool:
    """A self-assessment file: whoever sees the self-assessment; an action plan's progress file
    (no question): whoever sees the plan."""
    if record.removed_at is not None:
        return False
    if record.question_id is None:
        return _view_action_plan(user, record.review)
    return _view_self_assessment(user, record.review)


# --- pillar two: international partners (issue 18) -------------------------------------------


def is_partner(user: Any) -> bool:
    return _authenticated(user) and user.role == Role.PARTNER and user.active


def is_stakeholder(user: Any) -> bool:
    return _authenticated(user) and user.role == Role.STAKEHOLDER and user.active


def is_focal_point_of_state(user: Any, state_id: int) -> bool:
    return _authenticated(user) and user.role == Role.FOCAL_POINT and user.state_id == state_id


def _engaged_with(user: Any, state_id: int) -> bool:
    """A partner that made an offer on one of the state's requests (cached per request)."""
    if not is_partner(user):
        return False
    cache = g.setdefault("_engaged_cache", {})
    if user.id not in cache:
        cache[user.id] = set(
            db.session.scalars(
                select(AssistanceRequest.state_id)
                .join(Offer, Offer.request_id == AssistanceRequest.id)
                .where(Offer.partner_id == user.id)
            )
        )
    return state_id in cache[user.id]


def _view_request(user: Any, request: AssistanceRequest) -> bool:
    """The secretariat and the state always; a partner only while the state shares it, or
    afterwards when it made an offer on it (DESIGN §5: nothing unshared)."""
    if is_secretariat(user) or is_focal_point_of_state(user, request.state_id):
        return True
    if not is_partner(user):
        return False
    if request.status == RequestStatus.SHARED:
        return True
    return request.status == RequestStatus.WITHDRAWN and any(
        o.partner_id == user.id for o in request.offers
    )


def _party_to_offer(user: Any, offer: Offer) -> bool:
    return (
        is_secretariat(user)
        or (is_partner(user) and offer.partner_id == user.id)
        or is_focal_point_of_state(user, offer.request.state_id)
    )


def _party_to_programme(user: Any, programme: Programme) -> bool:
    return (is_partner(user) and programme.partner_id == user.id) or is_focal_point_of_state(
        user, programme.state_id
    )


def _view_coordination(user: Any, state: Any) -> bool:
    return (
        is_secretariat(user)
        or is_focal_point_of_state(user, state.id)
        or _engaged_with(user, state.id)
    )


# --- civil society: stakeholder submissions (issue 18) ----------------------------------------


def _view_submission(user: Any, submission: StakeholderSubmission) -> bool:
    """The secretariat; the author; the review team once the secretariat accepted it. Never the
    reviewed state (it reads the secretariat's summary only, DESIGN §5)."""
    if is_secretariat(user):
        return True
    if is_stakeholder(user) and submission.author_id == user.id:
        return True
    return submission.status == SubmissionStatus.ACCEPTED and is_team_member(
        user, submission.review
    )


def _edit_submission(user: Any, submission: StakeholderSubmission) -> bool:
    return (
        is_stakeholder(user)
        and submission.author_id == user.id
        and submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.CHANGES_REQUESTED)
        and submission.review.status in (R.SELF_ASSESSMENT, R.EVALUATION)
    )


def _comments_sent(review: Review) -> bool:
    """The state sent its factual-accuracy comments on the current draft (cached per request)."""
    from app.services.history import comments_sent

    cache = g.setdefault("_comments_sent_cache", {})
    if review.id not in cache:
        cache[review.id] = comments_sent(review) is not None
    return cache[review.id]


#: The rule table. Keys are actions; values take (user, object) and answer True or False.
RULES: dict[str, Callable[[Any, Any], bool]] = {
    "admin": lambda user, _obj: is_secretariat(user),
    # anyone, signed in or not, may choose the interface language (DESIGN §11)
    "language.choose": lambda _user, _obj: True,
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
    # the frozen versions and what changed between them (issue 16): whoever reads the answers
    "self_assessment.versions": _view_self_assessment,
    # starting a section from the state's last adopted review: whoever edits the answers
    "self_assessment.carry_over": lambda user, review: RULES["self_assessment.edit"](user, review),
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
    # the draw record of a review, to verify it (issue 16): the secretariat, and the reviewed
    # state's focal points, who see reviewers only as numbered candidates (state, group)
    "draw.record": lambda user, review: is_secretariat(user) or is_focal_point_of(user, review),
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
    # the draft report as an editable Word file: the lead reviewer and the secretariat (issue 19)
    "report.word": lambda user, review: is_secretariat(user) or is_lead_reviewer(user, review),
    # the lead, whatever the review's status: a refused save shows them back their text
    "report.draft_author": lambda user, review: is_lead_reviewer(user, review),
    # until the state sends its comments on this draft (issue 16: once sent, they are final)
    "report.comment": lambda user, review: (
        is_focal_point_of(user, review)
        and review.status == R.FACTUAL_CHECK
        and not _comments_sent(review)
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
    # national action plans (issue 17): measures, institutions, indicators, milestones, progress
    "action_plan.view": _view_action_plan,
    # budget lines are the state's and the secretariat's only: never published
    "action_plan.view_budget": _view_action_plan,
    "action_plan.edit": lambda user, review: (
        is_focal_point_of(user, review)
        and review.status in PLAN_EDITABLE
        and review.cycle.status != CycleStatus.CLOSED
    ),
    "action_plan.report": lambda user, review: (
        is_focal_point_of(user, review)
        and review.status in FOLLOW_UP
        and review.cycle.status != CycleStatus.CLOSED
    ),
    "action_plan.public": _public_action_plan,
    # the roll-up of every state's measures: the secretariat's monitoring
    "action_plan.roll_up": lambda user, _obj: is_secretariat(user),
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
    # a personal access token is its owner's alone (issue 19); it acts through these same rules
    "api_token.revoke": lambda user, token: _authenticated(user) and token.user_id == user.id,
    "evidence.view": _view_evidence,
    # removed only while the self-assessment is editable: never once submitted
    "evidence.remove": lambda user, evidence: (
        evidence.removed_at is None
        and evidence.question_id is not None
        and RULES["self_assessment.edit"](user, evidence.review)
    ),
    # --- pillar two (issue 18) ---
    "assistance.browse": lambda user, _obj: is_secretariat(user) or is_partner(user),
    "assistance.partner": lambda user, _obj: is_partner(user),
    "assistance.state": lambda user, _obj: _authenticated(user) and user.role == Role.FOCAL_POINT,
    "assistance.overview": lambda user, _obj: is_secretariat(user),
    # a request is drafted from a review of the focal point's own state
    "request.create": lambda user, review: is_focal_point_of(user, review),
    "request.view": _view_request,
    "request.edit": lambda user, request: (
        is_focal_point_of_state(user, request.state_id) and request.status == RequestStatus.DRAFT
    ),
    "request.share": lambda user, request: (
        is_focal_point_of_state(user, request.state_id) and request.status == RequestStatus.DRAFT
    ),
    "request.withdraw": lambda user, request: (
        is_focal_point_of_state(user, request.state_id) and request.status == RequestStatus.SHARED
    ),
    "offer.create": lambda user, request: (
        is_partner(user) and request.status == RequestStatus.SHARED
    ),
    "offer.view": _party_to_offer,
    "offer.decide": lambda user, offer: (
        is_focal_point_of_state(user, offer.request.state_id)
        and offer.status == OfferStatus.PENDING
        and offer.request.status == RequestStatus.SHARED
    ),
    "programme.view": lambda user, programme: (
        is_secretariat(user) or _party_to_programme(user, programme)
    ),
    "programme.note": lambda user, programme: (
        _party_to_programme(user, programme) and programme.status == ProgrammeStatus.UNDER_WAY
    ),
    "programme.complete": lambda user, programme: (
        _party_to_programme(user, programme) and programme.status == ProgrammeStatus.UNDER_WAY
    ),
    "programme.evaluate": lambda user, programme: (
        _party_to_programme(user, programme) and programme.status == ProgrammeStatus.COMPLETED
    ),
    "coordination.view": _view_coordination,
    # --- stakeholder submissions (issue 18) ---
    "submission.home": lambda user, _obj: is_stakeholder(user),
    "submission.create": lambda user, review: (
        is_stakeholder(user) and review.status in (R.SELF_ASSESSMENT, R.EVALUATION)
    ),
    "submission.view": _view_submission,
    "submission.edit": _edit_submission,
    "submission.screen": lambda user, submission: (
        is_secretariat(user) and submission.status == SubmissionStatus.SUBMITTED
    ),
    # the list of accepted submissions beside the self-assessment: the secretariat and the team
    "submissions.list": lambda user, review: is_secretariat(user) or is_team_member(user, review),
    "submissions.summary_edit": lambda user, review: is_secretariat(user),
    # the summary is what the reviewed state reads of civil society's submissions
    "submissions.summary_view": lambda user, review: (
        is_secretariat(user) or is_focal_point_of(user, review) or is_team_member(user, review)
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
    if user.role != Role.REVIEWER:  # partners and stakeholders see no review (issue 18)
        return Review.id.is_(None)
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
    if user.role != Role.REVIEWER:
        return Review.id.is_(None)
    mine = select(Assignment.review_id).where(
        Assignment.reviewer_id == user.id,
        (Assignment.status == A.SUBMITTED)
        | (Assignment.is_lead.is_(True) & Assignment.status.in_(TEAM)),
    )
    return Review.id.in_(mine) & (Review.status != R.WITHDRAWN)
