"""After the report: the state's response to each recommendation, its progress updates, and the
secretariat's implementation assessments (DESIGN §3, §4).

Scales: responses use the UPR terms *supported* / *noted*; progress is not started / in progress /
completed; assessments follow GRECO's compliance practice (implemented / partially implemented /
not implemented / no longer applicable). Histories are append-only. Functions here flush, never
commit; the review event ``submit_response`` (guard: every recommendation answered) is fired by
the caller through the transition service.
"""

from __future__ import annotations

from datetime import date
from itertools import groupby
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Assessment,
    AssessmentStatus,
    FrameworkSection,
    ProgressStatus,
    ProgressUpdate,
    Recommendation,
    Response,
    ResponsePosition,
    Review,
    User,
)
from app.services import clock


class FollowUpError(ValueError):
    """A response, progress update or assessment that cannot be stored; the message says why."""


def recommendations_of(review: Review) -> list[Recommendation]:
    """The review's recommendations in framework-section order, with section, response, progress
    updates and assessments (and their authors) loaded: a fixed number of queries."""
    return list(
        db.session.scalars(
            select(Recommendation)
            .join(FrameworkSection, Recommendation.section_id == FrameworkSection.id)
            .where(Recommendation.review_id == review.id)
            .options(
                selectinload(Recommendation.section),
                selectinload(Recommendation.response),
                selectinload(Recommendation.progress_updates).selectinload(ProgressUpdate.author),
                selectinload(Recommendation.assessments).selectinload(Assessment.author),
            )
            .order_by(FrameworkSection.number, Recommendation.id)
        )
    )


def by_section(
    recommendations: list[Recommendation],
) -> list[tuple[FrameworkSection, list[Recommendation]]]:
    """Group recommendations (already in section order) by framework section."""
    return [
        (group[0].section, group)
        for group in (list(g) for _k, g in groupby(recommendations, key=lambda r: r.section_id))
    ]


def recommendation_of(review: Review, recommendation_id: int) -> Recommendation | None:
    """Recommendation ``recommendation_id`` if it belongs to ``review``, else None."""
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None or recommendation.review_id != review.id:
        return None
    return recommendation


def save_responses(review: Review, data: dict[int, dict[str, Any]], user: User) -> int:
    """Store the state's (possibly partial) responses; flush; return the responses changed.

    ``data``: ``{recommendation_id: {"position": "supported" | "noted" | None, "explanation": str,
    "planned_action": str, "responsible_institution": str, "target_date": date | None}}``. A
    response may be saved without a position (a draft); ``submit_response`` later requires one for
    every recommendation.

    Raises:
        FollowUpError: a recommendation of another review, or a position other than the UPR terms
            supported / noted.
    """
    recommendations = {r.id: r for r in recommendations_of(review)}
    now = clock.now()
    changed = 0
    for rec_id, raw in data.items():
        recommendation = recommendations.get(rec_id)
        if recommendation is None:
            raise FollowUpError(_("This recommendation is not part of the review."))
        position = raw.get("position") or None
        if position is not None and position not in {p.value for p in ResponsePosition}:
            raise FollowUpError(_("The position must be supported or noted."))
        values = {
            "position": ResponsePosition(position) if position else None,
            "explanation": str(raw.get("explanation") or "").strip(),
            "planned_action": str(raw.get("planned_action") or "").strip(),
            "responsible_institution": str(raw.get("responsible_institution") or "").strip(),
            "target_date": raw.get("target_date"),
        }
        if values["target_date"] is not None and not isinstance(values["target_date"], date):
            raise FollowUpError(_("The target date is not a date."))
        response = recommendation.response
        if response is None:
            if not any(v not in (None, "") for v in values.values()):
                continue
            response = Response(recommendation_id=rec_id)
            db.session.add(response)
            recommendation.response = response
        elif all(getattr(response, name) == value for name, value in values.items()):
            continue
        for name, value in values.items():
            setattr(response, name, value)
        response.updated_at = now
        response.updated_by_id = user.id
        changed += 1
    db.session.flush()
    return changed


def post_progress(
    recommendation: Recommendation, status: str, narrative: str, user: User
) -> ProgressUpdate:
    """Add a dated progress update by the state on ``recommendation``; flush; return it.

    Raises:
        FollowUpError: a status other than not started / in progress / completed.
    """
    if status not in {s.value for s in ProgressStatus}:
        raise FollowUpError(_("Choose a progress status."))
    update = ProgressUpdate(
        recommendation_id=recommendation.id,
        status=ProgressStatus(status),
        narrative=(narrative or "").strip(),
        author_id=user.id,
        created_at=clock.now(),
    )
    db.session.add(update)
    db.session.flush()
    return update


def post_assessment(
    recommendation: Recommendation, status: str, note: str, user: User
) -> Assessment:
    """Add a dated implementation assessment by the secretariat; flush; return it.

    Raises:
        FollowUpError: a status outside the GRECO-style scale (implemented, partially implemented,
            not implemented, no longer applicable).
    """
    if status not in {s.value for s in AssessmentStatus}:
        raise FollowUpError(_("Choose an assessment."))
    assessment = Assessment(
        recommendation_id=recommendation.id,
        status=AssessmentStatus(status),
        note=(note or "").strip(),
        author_id=user.id,
        created_at=clock.now(),
    )
    db.session.add(assessment)
    db.session.flush()
    return assessment
