"""Carry-over of unimplemented recommendations into a state's next review (issue 5).

When a cycle opens (the ``open_cycle`` event; also when a state joins a cycle already open), each
participating state's recommendations from its most recent earlier review whose report was adopted
are copied into the new review when they were not implemented: the secretariat's latest
assessment is *not implemented* or *partially implemented*, or there is none. Implemented and
no-longer-applicable ones stay behind. Each copy keeps text, priority, action category and
addressee, points to its original (``carried_from_id``) and is shown "as recommended previously".
The section is the new framework's section with the same code (the original's when the new
framework has none). Carrying twice adds nothing: originals already carried into the review are
skipped.

No double tracking (issue 16, item 8): when that previous review is still in follow-up or
enhanced follow-up as the new cycle opens (or the state joins the open cycle), its follow-up is
closed into the new review — the ``close_into_next_cycle`` event, fired by the transition
service, logged and e-mailed to the state's focal points and the secretariat. Progress on the
carried recommendations is then reported in the new review only; the old one is closed and
read-only. `preview` shows the secretariat, before it opens the cycle, which reviews will be
closed and how many recommendations carry over. Functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select

from app.access import REPORT_ADOPTED
from app.extensions import db
from app.models import (
    AssessmentStatus,
    Cycle,
    FrameworkSection,
    Recommendation,
    Review,
    State,
    User,
)
from app.services import clock
from app.services.publication import latest_assessments
from workflows import CycleStatus

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


def carry_into_cycle(cycle: Cycle, actor: User | None = None) -> dict[int, int]:
    """`carry_over` for every review of ``cycle``, then (the cycle being open) close into them
    the previous reviews still in follow-up (`close_followed_up`); return ``{review id: copies
    made}``. ``actor``: who opened the cycle (None: the command line)."""
    reviews = list(db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)).all())
    return carry_and_close(reviews, actor)


def carry_and_close(reviews: list[Review], actor: User | None) -> dict[int, int]:
    """`carry_over_reviews` for ``reviews`` (all of one cycle), then `close_followed_up` when
    their cycle is open; return ``{review id: copies made now}``."""
    made = {review_id: len(copies) for review_id, copies in carry_over_reviews(reviews).items()}
    if reviews and reviews[0].cycle.status == CycleStatus.OPEN:
        close_followed_up(reviews, actor)
    return made


def close_followed_up(reviews: list[Review], actor: User | None) -> int:
    """Close into each of ``reviews`` (of one open cycle) the state's previous review when it is
    still in follow-up or enhanced follow-up (see the module docstring); return how many were
    closed. The payload of each log row counts the recommendations carried into the new review
    from the closed one."""
    from app.services.transitions import FOLLOWED_UP, close_into_next_cycle

    if not reviews:
        return 0
    previous = _previous_reviews(reviews[0].cycle, [r.state_id for r in reviews])
    if not previous:
        return 0
    open_ones = {
        review.id: review
        for review in db.session.scalars(
            select(Review)
            .where(Review.id.in_(list(previous.values())), Review.status.in_(FOLLOWED_UP))
            .with_for_update()
        )
    }
    closed = 0
    for into in reviews:
        old = open_ones.get(previous.get(into.state_id))
        if old is None:
            continue
        carried = db.session.scalar(
            select(func.count(Recommendation.id)).where(
                Recommendation.review_id == into.id,
                Recommendation.carried_from_id.in_(
                    select(Recommendation.id).where(Recommendation.review_id == old.id)
                ),
            )
        )
        close_into_next_cycle(old, into, actor, carried or 0)
        closed += 1
    return closed


@dataclass(frozen=True)
class CarryPreview:
    """What opening a cycle (or adding a state to an open one) will do for one state: its
    previous adopted review (id, cycle name, status), how many recommendations would carry over
    now, and whether that review's follow-up will be closed into the new one."""

    state: State
    previous_review_id: int
    previous_cycle: str
    previous_status: str
    carried: int
    closes: bool


def preview(cycle: Cycle) -> list[CarryPreview]:
    """For each state of ``cycle`` with a previous adopted review, what `carry_and_close` would
    do if run now (nothing is written), by state name; only states for which something
    happens (a recommendation carries, or a follow-up closes). Three queries."""
    from app.services.transitions import FOLLOWED_UP

    reviews = {
        r.state_id: r for r in db.session.scalars(select(Review).where(Review.cycle_id == cycle.id))
    }
    previous = _previous_reviews(cycle, list(reviews))
    if not previous:
        return []
    rows = db.session.execute(
        select(Review.id, Review.status, State, Cycle.name)
        .join(State, State.id == Review.state_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .where(Review.id.in_(list(previous.values())))
    ).all()
    originals = db.session.execute(
        select(Recommendation.id, Recommendation.review_id).where(
            Recommendation.review_id.in_(list(previous.values()))
        )
    ).all()
    latest = latest_assessments([rec_id for rec_id, _review in originals])
    already = set(
        db.session.scalars(
            select(Recommendation.carried_from_id).where(
                Recommendation.review_id.in_([r.id for r in reviews.values()]),
                Recommendation.carried_from_id.is_not(None),
            )
        )
    )
    carried: dict[int, int] = {}
    for rec_id, review_id in originals:
        assessment = latest.get(rec_id)
        if rec_id in already or (assessment is not None and assessment.status not in UNIMPLEMENTED):
            continue
        carried[review_id] = carried.get(review_id, 0) + 1
    result = []
    for review_id, status, state, cycle_name in rows:
        closes = status in FOLLOWED_UP and cycle.status != CycleStatus.CLOSED
        if closes or carried.get(review_id):
            result.append(
                CarryPreview(
                    state, review_id, cycle_name, str(status), carried.get(review_id, 0), closes
                )
            )
    return sorted(result, key=lambda p: p.state.name)
