"""A state's history across cycles: its reviews, their outcome and what became of their
recommendations (DESIGN §8 "per state the history across cycles"; issue 5).

Read-only. What a viewer sees of each review follows `app.access`: the recommendations of a
review only when ``recommendations.view`` allows (a focal point from factual check on).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access
from app.extensions import db
from app.models import Assessment, Cycle, FrameworkSection, Recommendation, Report, Review, State
from app.services.publication import latest_assessments


@dataclass
class ReviewHistory:
    """One review of the state: ``recommendations`` empty when the viewer may not see them;
    ``figures``: counts by response position and by latest assessment (``none``: not yet)."""

    review: Review
    adopted_at: datetime | None
    shows_recommendations: bool
    recommendations: list[Recommendation] = field(default_factory=list)
    latest: dict[int, Assessment] = field(default_factory=dict)
    figures: dict[str, Counter] = field(default_factory=dict)


def state_history(state: State, user: Any) -> list[ReviewHistory]:
    """The reviews of ``state`` across cycles, newest cycle first, as ``user`` may see them.
    A fixed number of queries whatever the number of reviews."""
    reviews = db.session.scalars(
        select(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(Review.state_id == state.id, access.visible_review_ids_clause(user))
        .options(selectinload(Review.cycle))
        .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
    ).all()
    adopted = dict(
        db.session.execute(
            select(Report.review_id, Report.adopted_at).where(
                Report.review_id.in_([r.id for r in reviews])
            )
        ).all()
    )
    entries = [
        ReviewHistory(
            review=r,
            adopted_at=adopted.get(r.id),
            shows_recommendations=access.can(user, "recommendations.view", r),
        )
        for r in reviews
    ]
    shown = {e.review.id: e for e in entries if e.shows_recommendations}
    recommendations = db.session.scalars(
        select(Recommendation)
        .join(FrameworkSection, Recommendation.section_id == FrameworkSection.id)
        .where(Recommendation.review_id.in_(list(shown)))
        .options(
            selectinload(Recommendation.section),
            selectinload(Recommendation.response),
            selectinload(Recommendation.carried_from)
            .selectinload(Recommendation.review)
            .joinedload(Review.cycle),
        )
        .order_by(FrameworkSection.number, Recommendation.id)
    ).all()
    latest = latest_assessments([r.id for r in recommendations])
    for rec in recommendations:
        entry = shown[rec.review_id]
        entry.recommendations.append(rec)
        if rec.id in latest:
            entry.latest[rec.id] = latest[rec.id]
    for entry in shown.values():
        entry.figures = {
            "position": Counter(
                r.response.position.value if r.response and r.response.position else "none"
                for r in entry.recommendations
            ),
            "assessment": Counter(
                entry.latest[r.id].status.value if r.id in entry.latest else "none"
                for r in entry.recommendations
            ),
        }
    return entries
