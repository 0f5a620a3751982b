"""Reading a review's workflow history (the TransitionLog) to tell people where things stand."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Review, TransitionLog


def latest_events(review_ids: list[int], events: tuple[str, ...]) -> dict[int, TransitionLog]:
    """Review id → its newest log row among ``events``; one query whatever the number of ids."""
    latest: dict[int, TransitionLog] = {}
    if not review_ids:
        return latest
    rows = db.session.scalars(
        select(TransitionLog)
        .where(
            TransitionLog.subject_type == "review",
            TransitionLog.subject_id.in_(review_ids),
            TransitionLog.event.in_(events),
        )
        .order_by(TransitionLog.id)
    )
    for row in rows:
        latest[row.subject_id] = row
    return latest


def returned_with(review: Review) -> TransitionLog | None:
    """The secretariat's return of the self-assessment, if that is the latest thing that happened
    to it (so the focal point sees why it came back); else None."""
    row = latest_events([review.id], ("submit_self_assessment", "return_self_assessment")).get(
        review.id
    )
    return row if row is not None and row.event == "return_self_assessment" else None


def comments_sent(review: Review) -> TransitionLog | None:
    """When the state sent its factual-accuracy comments on the current draft, else None."""
    row = latest_events([review.id], ("submit_draft_report", "submit_factual_comments")).get(
        review.id
    )
    return row if row is not None and row.event == "submit_factual_comments" else None
