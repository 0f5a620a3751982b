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

from sqlalchemy import insert, select

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
    return carry_over_reviews([review]).get(review.id, [])


def carry_over_reviews(reviews: list[Review]) -> dict[int, list[Recommendation]]:
    """`carry_over` for each of ``reviews`` (all of one cycle, or one review) in a bounded number
    of queries whatever their number; return ``{review id: copies made now}`` (written, in the
    order of the originals)."""
    if not reviews:
        return {}
    cycle = reviews[0].cycle
    previous = _previous_reviews(cycle, [r.state_id for r in reviews])
    by_state = {r.state_id: r for r in reviews}
    originals = db.session.execute(
        select(Recommendation, FrameworkSection.code)
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .where(Recommendation.review_id.in_(list(previous.values())))
        .order_by(Recommendation.id)
    ).all()
    latest = latest_assessments([r.id for r, _code in originals])
    already = set(
        db.session.execute(
            select(Recommendation.review_id, Recommendation.carried_from_id).where(
                Recommendation.review_id.in_([r.id for r in reviews]),
                Recommendation.carried_from_id.is_not(None),
            )
        ).all()
    )
    sections = {}
    if cycle.framework_id is not None:
        sections = dict(
            db.session.execute(
                select(FrameworkSection.code, FrameworkSection.id).where(
                    FrameworkSection.framework_id == cycle.framework_id
                )
            ).all()
        )
    state_of_previous = {review_id: state_id for state_id, review_id in previous.items()}
    rows: list[dict] = []
    now = clock.now()
    for original, section_code in originals:
        review = by_state[state_of_previous[original.review_id]]
        assessment = latest.get(original.id)
        if (review.id, original.id) in already:
            continue
        if assessment is not None and assessment.status not in UNIMPLEMENTED:
            continue
        rows.append(
            {
                "review_id": review.id,
                "section_id": sections.get(section_code, original.section_id),
                "text": original.text,
                "priority": original.priority,
                "action_category": original.action_category,
                "addressee": original.addressee,
                "carried_from_id": original.id,
                "created_at": now,
            }
        )
    copies: dict[int, list[Recommendation]] = {r.id: [] for r in reviews}
    if not rows:
        return copies
    db.session.flush()
    # one multi-row INSERT for the whole cycle, then the copies read back in one query
    ids = db.session.scalars(
        insert(Recommendation).returning(Recommendation.id, sort_by_parameter_order=True), rows
    ).all()
    for copy in db.session.scalars(
        select(Recommendation).where(Recommendation.id.in_(ids)).order_by(Recommendation.id)
    ):
        copies[copy.review_id].append(copy)
    return copies


def _previous_reviews(cycle: Cycle, state_ids: list[int]) -> dict[int, int]:
    """State id → id of the state's most recent review before ``cycle`` whose report was adopted
    (see `previous_review`), for each of ``state_ids`` that has one. One query."""
    rows = db.session.execute(
        select(Review.state_id, Review.id)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(
            Review.state_id.in_(state_ids),
            Review.cycle_id != cycle.id,
            Review.status.in_(REPORT_ADOPTED),
            (Cycle.starts_on < cycle.starts_on)
            | ((Cycle.starts_on == cycle.starts_on) & (Cycle.id < cycle.id)),
        )
        .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
    ).all()
    found: dict[int, int] = {}
    for state_id, review_id in rows:
        found.setdefault(state_id, review_id)
    return found


def carry_into_cycle(cycle: Cycle) -> dict[int, int]:
    """`carry_over` for every review of ``cycle``; return ``{review id: copies made}``."""
    reviews = db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)).all()
    return {review_id: len(made) for review_id, made in carry_over_reviews(list(reviews)).items()}
