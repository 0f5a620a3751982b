"""Carry-over of unimplemented recommendations into a state's next review (issue 5).

When a cycle opens (the ``open_cycle`` event; also when a state joins a cycle already open), each
participating state's recommendations from its most recent earlier review whose report was adopted
are copied into the new review when they were not implemented: the secretariat's latest
assessment is *not implemented* or *partially implemented*, or there is none. Implemented and
no-longer-applicable ones stay behind. Each copy keeps text, priority, action category and
addressee, points to its original (``carried_from_id``) and is shown "as recommended previously".
The section is the new framework's section with the same code (the original's when the new
framework has none). Carrying twice adds nothing: originals already carried into the review are
skipped. Functions flush, never commit.
"""

from __future__ import annotations

from sqlalchemy import select

from app.access import REPORT_ADOPTED
from app.extensions import db
from app.models import (
    AssessmentStatus,
    Cycle,
    FrameworkSection,
    Recommendation,
    Review,
)
from app.services import clock
from app.services.publication import latest_assessments

#: Latest assessments that leave a recommendation to carry (no assessment at all carries too).
UNIMPLEMENTED = (AssessmentStatus.NOT_IMPLEMENTED, AssessmentStatus.PARTIALLY_IMPLEMENTED)


def previous_review(review: Review) -> Review | None:
    """The state's most recent review before ``review`` whose report was adopted: in a cycle
    starting earlier (or the same day and created earlier), never a withdrawn one."""
    cycle = review.cycle
    return db.session.scalar(
        select(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(
            Review.state_id == review.state_id,
            Review.id != review.id,
            Review.status.in_(REPORT_ADOPTED),
            (Cycle.starts_on < cycle.starts_on)
            | ((Cycle.starts_on == cycle.starts_on) & (Cycle.id < cycle.id)),
        )
        .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
        .limit(1)
    )


def carry_over(review: Review) -> list[Recommendation]:
    """Copy the unimplemented recommendations of the state's previous review into ``review``;
    flush; return the copies made now (empty when there is no previous review, nothing left
    unimplemented, or everything was already carried)."""
    previous = previous_review(review)
    if previous is None:
        return []
    originals = db.session.scalars(
        select(Recommendation)
        .where(Recommendation.review_id == previous.id)
        .order_by(Recommendation.id)
    ).all()
    latest = latest_assessments([r.id for r in originals])
    already = set(
        db.session.scalars(
            select(Recommendation.carried_from_id).where(
                Recommendation.review_id == review.id,
                Recommendation.carried_from_id.is_not(None),
            )
        )
    )
    sections = {}
    if review.cycle.framework_id is not None:
        sections = dict(
            db.session.execute(
                select(FrameworkSection.code, FrameworkSection.id).where(
                    FrameworkSection.framework_id == review.cycle.framework_id
                )
            ).all()
        )
    copies = []
    now = clock.now()
    for original in originals:
        assessment = latest.get(original.id)
        if original.id in already:
            continue
        if assessment is not None and assessment.status not in UNIMPLEMENTED:
            continue
        copy = Recommendation(
            review_id=review.id,
            section_id=sections.get(original.section.code, original.section_id),
            text=original.text,
            priority=original.priority,
            action_category=original.action_category,
            addressee=original.addressee,
            carried_from_id=original.id,
            created_at=now,
        )
        db.session.add(copy)
        copies.append(copy)
    db.session.flush()
    return copies


def carry_into_cycle(cycle: Cycle) -> dict[int, int]:
    """`carry_over` for every review of ``cycle``; return ``{review id: copies made}``."""
    reviews = db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)).all()
    return {review.id: len(carry_over(review)) for review in reviews}
