""" "What needs me now": each role's to-do list for the home page, from the workflow statuses.

Every list is built in a fixed number of queries, whatever the number of reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app import access
from app.extensions import db
from app.models import (
    Assignment,
    Cycle,
    MidtermReport,
    Notification,
    PublicationConsent,
    Review,
    Role,
    User,
)
from app.services import clock, history
from workflows import AssignmentStatus, CycleStatus, ReviewStatus
from workflows.assignment import TEAM_FORMING
from workflows.base import N_

R = ReviewStatus
A = AssignmentStatus

#: The deadline stage that matters while a review is in a status.
STAGE_OF_STATUS = {
    R.SELF_ASSESSMENT: "self_assessment",
    R.SCREENING: "self_assessment",
    R.PEER_ASSIGNMENT: "evaluation",
    R.EVALUATION: "evaluation",
    R.FACTUAL_CHECK: "factual_check",
    R.RESPONSE: "response",
    R.FOLLOW_UP: "follow_up",
    R.ENHANCED_FOLLOW_UP: "follow_up",
}


@dataclass
class Task:
    """One line of a to-do list: what to do, on which review, where to go, by when."""

    review: Review
    action: str
    endpoint: str
    params: dict
    due_at: object = None


def next_deadline(review: Review):
    stage = STAGE_OF_STATUS.get(review.status)
    for deadline in review.deadlines:
        if deadline.stage == stage:
            return deadline.due_at
    return None


def _reviews_query():
    return select(Review).options(
        joinedload(Review.state),
        joinedload(Review.cycle),
        selectinload(Review.deadlines),
    )


def tasks_for(user: User) -> list[Task]:
    """The user's open tasks, most urgent deadline first."""
    if user.role == Role.SECRETARIAT:
        tasks = _secretariat_tasks()
    elif user.role == Role.FOCAL_POINT:
        tasks = _focal_point_tasks(user)
    else:
        tasks = _reviewer_tasks(user)
    far = "9999"
    return sorted(tasks, key=lambda t: t.due_at.isoformat() if t.due_at else far)


def _task(review: Review, action: str, endpoint: str, **params) -> Task:
    return Task(review, action, endpoint, params or {"review_id": review.id}, next_deadline(review))


def _event_of(row) -> str | None:
    return row.event if row is not None else None


def _focal_point_tasks(user: User) -> list[Task]:
    """The state's work in open cycles; a returned self-assessment and comments already sent
    are told apart from fresh work."""
    reviews = list(
        db.session.scalars(
            _reviews_query()
            .join(Cycle, Review.cycle_id == Cycle.id)
            .where(Review.state_id == user.state_id, Cycle.status == CycleStatus.OPEN)
        ).unique()
    )
    latest = history.latest_events(
        [r.id for r in reviews],
        (
            "submit_self_assessment",
            "return_self_assessment",
            "submit_draft_report",
            "submit_factual_comments",
        ),
    )
    # once the report is adopted the state decides on publication: asked until it decided or
    # the review closed (issue 16, item 7), one query for every review
    asking = (R.RESPONSE, *access.FOLLOW_UP)
    adopted = [r.id for r in reviews if r.status in asking]
    decided = set(
        db.session.scalars(
            select(PublicationConsent.review_id).where(PublicationConsent.review_id.in_(adopted))
        )
        if adopted
        else ()
    )
    tasks = []
    for review in reviews:
        if review.status in asking and review.id not in decided:
            tasks.append(
                _task(
                    review,
                    _(
                        "Decide what of the adopted report may be published: nothing, the "
                        "executive summary and recommendations, or the full report"
                    ),
                    "publication.consent",
                )
            )
        if review.status == R.SELF_ASSESSMENT:
            returned = _event_of(latest.get(review.id)) == "return_self_assessment"
            action = (
                _("Revise and resubmit the self-assessment (returned by the secretariat)")
                if returned
                else _("Complete and submit the self-assessment")
            )
            tasks.append(_task(review, action, "self_assessment.overview"))
        elif review.status == R.FACTUAL_CHECK:
            if _event_of(latest.get(review.id)) != "submit_factual_comments":
                tasks.append(
                    _task(review, _("Check the draft report for factual accuracy"), "report.show")
                )
        elif review.status == R.RESPONSE:
            tasks.append(_task(review, _("Answer each recommendation"), "follow_up.response"))
        elif review.status in access.FOLLOW_UP:
            tasks.append(
                _task(review, _("Report progress on the recommendations"), "follow_up.show")
            )
    return tasks


#: How long, in days, the home page announces a new mid-term report not yet opened.
NEW_MIDTERM_DAYS = 30

#: The notification kind of a new mid-term report (``app/services/notification_rules.py``).
MIDTERM_KIND = "midterm_report"


def new_midterm_reports(user: User) -> list[MidtermReport]:
    """The mid-term reports of the focal point's state generated in the last `NEW_MIDTERM_DAYS`
    days that they have not opened since (their ``midterm_report`` notification on that review
    is unread, or they got none), newest first, each with its review, state and cycle loaded;
    empty for other roles. One query (issue 16, item 7)."""
    if user.role != Role.FOCAL_POINT or user.state_id is None:
        return []
    seen = (
        select(Notification.id)
        .where(
            Notification.recipient_id == user.id,
            Notification.kind == MIDTERM_KIND,
            Notification.review_id == MidtermReport.review_id,
            Notification.read_at.is_not(None),
            Notification.read_at >= MidtermReport.created_at,
        )
        .correlate(MidtermReport)
        .exists()
    )
    return list(
        db.session.scalars(
            select(MidtermReport)
            .join(Review, Review.id == MidtermReport.review_id)
            .where(
                Review.state_id == user.state_id,
                MidtermReport.created_at >= clock.now() - timedelta(days=NEW_MIDTERM_DAYS),
                ~seen,
            )
            .options(
                joinedload(MidtermReport.review).joinedload(Review.state),
                joinedload(MidtermReport.review).joinedload(Review.cycle),
            )
            .order_by(MidtermReport.created_at.desc(), MidtermReport.id.desc())
        ).unique()
    )


def mark_midterm_seen(user: User, review: Review) -> int:
    """Mark ``user``'s unread ``midterm_report`` notifications on ``review`` read now (they
    opened a mid-term report of it); flush; return how many changed."""
    from sqlalchemy import update

    result = db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == user.id,
            Notification.kind == MIDTERM_KIND,
            Notification.review_id == review.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _reviewer_tasks(user: User) -> list[Task]:
    assignments = db.session.scalars(
        select(Assignment)
        .join(Review, Assignment.review_id == Review.id)
        .where(
            Assignment.reviewer_id == user.id,
            Assignment.status.in_(access.VISIBLE_TO_REVIEWER),
            Review.status != R.WITHDRAWN,
        )
        .options(
            joinedload(Assignment.review).joinedload(Review.state),
            joinedload(Assignment.review).joinedload(Review.cycle),
            joinedload(Assignment.review).selectinload(Review.deadlines),
        )
    ).unique()
    tasks = []
    for assignment in assignments:
        review = assignment.review
        if assignment.status == A.INVITED and review.status in TEAM_FORMING:
            tasks.append(
                _task(
                    review,
                    _("Answer the invitation to review"),
                    "evaluation.invitation",
                    assignment_id=assignment.id,
                )
            )
        elif assignment.status == A.ACCEPTED and review.status == R.EVALUATION:
            tasks.append(
                _task(
                    review,
                    _("File your evaluation"),
                    "evaluation.edit",
                    assignment_id=assignment.id,
                )
            )
        elif assignment.is_lead and review.status == R.EVALUATION:
            tasks.append(
                _task(review, _("Consolidate the draft report (lead reviewer)"), "report.edit")
            )
    return tasks


SECRETARIAT_ACTIONS = {
    R.SCREENING: (N_("Screen the submitted self-assessment"), "reviews.show"),
    R.PEER_ASSIGNMENT: (N_("Assign peer reviewers and start the evaluation"), "admin.review_team"),
    R.FACTUAL_CHECK: (N_("Adopt the report after the factual check"), "report.show"),
    R.FOLLOW_UP: (N_("Assess implementation of the recommendations"), "follow_up.show"),
    R.ENHANCED_FOLLOW_UP: (N_("Assess implementation (enhanced follow-up)"), "follow_up.show"),
}


def _secretariat_tasks() -> list[Task]:
    reviews = db.session.scalars(
        _reviews_query()
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(Review.status.in_(list(SECRETARIAT_ACTIONS)))
    ).unique()
    tasks = []
    for review in reviews:
        action, endpoint = SECRETARIAT_ACTIONS[review.status]
        tasks.append(_task(review, _(action), endpoint))
    return tasks


def visible_reviews(user: User) -> list[Review]:
    """Every review the user may see, for the "my reviews" list."""
    return list(
        db.session.scalars(
            _reviews_query()
            .where(access.visible_review_ids_clause(user))
            .order_by(Review.cycle_id.desc(), Review.id)
        ).unique()
    )


def own_assignments(user: User) -> dict[int, Assignment]:
    """Review id → the reviewer's own assignment on it (empty for other roles); one query."""
    if user.role != Role.REVIEWER:
        return {}
    return {
        a.review_id: a
        for a in db.session.scalars(select(Assignment).where(Assignment.reviewer_id == user.id))
    }
