"""After the report: the state's response to each recommendation, its progress updates, and the
secretariat's implementation assessments (DESIGN §3, §4).

Scales: responses use the UPR terms *supported* / *noted*; progress is not started / in progress /
completed; assessments follow GRECO's compliance practice (implemented / partially implemented /
not implemented / no longer applicable). Histories are append-only. Functions here flush, never
commit; the review event ``submit_response`` (guard: every recommendation answered) is fired by
the caller through the transition service.

Concurrency: the response page carries the `fingerprint` of each recommendation's stored response
and of the whole (`response_versions`, `version_of`); `save_responses` locks the review row and
refuses with `NotEditable` once the response was submitted and with `ResponsesChanged` when
someone saved since the page was loaded. A progress update or assessment identical to the latest
one by the same author (a double click) is refused with `AlreadyRecorded`.
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
from app.services.concurrency import fingerprint, is_stale, locked_value, repeats_latest
from workflows import ReviewStatus


class FollowUpError(ValueError):
    """A response, progress update or assessment that cannot be stored; the message says why."""


class NotEditable(FollowUpError):
    """The review is no longer in response (the response was submitted, e.g. from another tab)."""

    def __init__(self) -> None:
        super().__init__(_("The response can no longer be changed."))


class ResponsesChanged(FollowUpError):
    """Someone saved the response after the page being saved was loaded; nothing was stored.

    ``versions`` holds the current fingerprint of each recommendation's response.
    """

    def __init__(self, versions: dict[str, str]) -> None:
        super().__init__(_("Someone saved the response after you opened it."))
        self.versions = versions


class AlreadyRecorded(FollowUpError):
    """The same entry by the same author is already the latest one (a double click)."""


class ProgressChanged(FollowUpError):
    """A progress update was posted after the version the writer read (`progress_version`);
    nothing was stored. ``version`` is the current one."""

    def __init__(self, version: str) -> None:
        super().__init__(_("Someone posted progress on this recommendation after you read it."))
        self.version = version


def recommendations_of(review: Review) -> list[Recommendation]:
    """The review's recommendations in framework-section order, with section, response, progress
    updates and assessments (and their authors) and the carried-over original loaded: a fixed
    number of queries."""
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
                # "as recommended previously (cycle)": the original, its review and cycle
                selectinload(Recommendation.carried_from)
                .joinedload(Recommendation.review)
                .joinedload(Review.cycle),
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


#: The ``assessment`` filter of the follow-up page: ``none`` (not assessed yet) or the status
#: of the latest assessment (``implemented``, ``partially_implemented``, ...).
NOT_ASSESSED = "none"


def latest_assessment_is(recommendation: Recommendation, wanted: str) -> bool:
    """Whether ``recommendation``'s latest assessment has status ``wanted`` (`NOT_ASSESSED`: it
    has none). Reads the loaded ``assessments``; no query."""
    if not recommendation.assessments:
        return wanted == NOT_ASSESSED
    latest = max(recommendation.assessments, key=lambda a: (a.created_at, a.id))
    return latest.status.value == wanted


def recommendation_of(review: Review, recommendation_id: int) -> Recommendation | None:
    """Recommendation ``recommendation_id`` if it belongs to ``review``, else None."""
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None or recommendation.review_id != review.id:
        return None
    return recommendation


def response_versions(responses: dict[int, Response | None]) -> dict[str, str]:
    """The `fingerprint` of each recommendation's stored response (position, explanation, planned
    action, responsible institution, target date), keyed by the recommendation id as text.

    ``responses``: ``{recommendation id: Response or None}``; no query.
    """
    versions = {}
    for rec_id, response in responses.items():
        values = None
        if response is not None:
            values = [
                response.position.value if response.position else None,
                response.explanation,
                response.planned_action,
                response.responsible_institution,
                response.target_date.isoformat() if response.target_date else None,
            ]
        versions[str(rec_id)] = fingerprint([values])
    return versions


def version_of(versions: dict[str, str]) -> str:
    """The version of the whole page from the fingerprints of its parts (the ``base_version``)."""
    return fingerprint(sorted(versions.items()))


def response_submitted(review: Review) -> bool:
    """Whether the state's response was submitted: the review is in follow-up or closed."""
    return review.status in (
        ReviewStatus.FOLLOW_UP,
        ReviewStatus.ENHANCED_FOLLOW_UP,
        ReviewStatus.CLOSED,
    )


def unsaved_responses(review: Review, data: dict[int, dict[str, Any]]) -> list[int]:
    """The recommendation ids whose response in ``data`` (the shape `save_responses` takes)
    differs from what is stored: what a save would change. Nothing is changed.

    Raises:
        FollowUpError: as `save_responses`.
    """
    _stored, changes = _plan(review, data)
    return [rec_id for rec_id, _values in changes]


def save_responses(
    review: Review,
    data: dict[int, dict[str, Any]],
    user: User,
    *,
    base_version: str | None = None,
) -> int:
    """Store the state's (possibly partial) responses; flush; return the responses changed.

    ``data``: ``{recommendation_id: {"position": "supported" | "noted" | None, "explanation": str,
    "planned_action": str, "responsible_institution": str, "target_date": date | None}}``. A
    response may be saved without a position (a draft); ``submit_response`` later requires one for
    every recommendation.

    ``base_version`` is the `version_of` the responses the person's page was rendered from; when
    a response was saved since and this save would change anything, nothing is stored. A save
    that changes nothing (a double click) is never refused. The review row is locked first
    (PostgreSQL; SQLite serialises writers) so that saves and the submission do not interleave.

    Raises:
        NotEditable: the review is no longer in response (DESIGN §4: responses change only then).
        ResponsesChanged: the responses changed since ``base_version``; nothing was stored.
        FollowUpError: a recommendation of another review, or a position other than the UPR terms
            supported / noted.
    """
    if locked_value(Review.status, review.id) != ReviewStatus.RESPONSE:
        raise NotEditable()
    stored, changes = _plan(review, data)
    if base_version and changes:
        versions = response_versions(stored)
        if is_stale(base_version, version_of(versions)):
            raise ResponsesChanged(versions)
    now = clock.now()
    for rec_id, values in changes:
        response = stored[rec_id]
        if response is None:
            response = Response(recommendation=db.session.get(Recommendation, rec_id))
            db.session.add(response)
        for name, value in values.items():
            setattr(response, name, value)
        response.updated_at = now
        response.updated_by_id = user.id
    db.session.flush()
    return len(changes)


def _plan(
    review: Review, data: dict[int, dict[str, Any]]
) -> tuple[dict[int, Response | None], list[tuple[int, dict[str, Any]]]]:
    """What saving ``data`` would change, read fresh from the database: every recommendation's
    stored response (or None) by recommendation id, and ``[(id, cleaned values)]`` that differ."""
    stored: dict[int, Response | None] = dict.fromkeys(
        db.session.scalars(select(Recommendation.id).where(Recommendation.review_id == review.id))
    )
    for response in db.session.scalars(
        select(Response)
        .join(Recommendation, Response.recommendation_id == Recommendation.id)
        .where(Recommendation.review_id == review.id)
        .execution_options(populate_existing=True)
    ):
        stored[response.recommendation_id] = response
    changes = []
    for rec_id, raw in data.items():
        if rec_id not in stored:
            raise FollowUpError(_("This recommendation is not part of the review."))
        values = _clean_response(raw)
        response = stored[rec_id]
        if response is None:
            if not any(v not in (None, "") for v in values.values()):
                continue
        elif all(getattr(response, name) == value for name, value in values.items()):
            continue
        changes.append((rec_id, values))
    return stored, changes


def _clean_response(raw: dict[str, Any]) -> dict[str, Any]:
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
    return values


def _lock(recommendation: Recommendation) -> None:
    """Lock the recommendation row (PostgreSQL) so that two identical posts cannot both pass the
    "already recorded" check."""
    locked_value(Recommendation.id, recommendation.id)


def progress_version(recommendation: Recommendation) -> str:
    """The version of ``recommendation``'s progress history: the id of its newest update as
    text, ``"0"`` when it has none (what an API client sends back as ``base_version``)."""
    newest = db.session.scalar(
        select(ProgressUpdate.id)
        .where(ProgressUpdate.recommendation_id == recommendation.id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
        .limit(1)
    )
    return str(newest or 0)


def post_progress(
    recommendation: Recommendation,
    status: str,
    narrative: str,
    user: User,
    evidence: str = "",
    *,
    base_version: str | None = None,
) -> ProgressUpdate:
    """Add a dated progress update by the state on ``recommendation``; flush; return it.

    ``evidence``: what shows the progress (references, links), as text; optional.
    ``base_version``: the `progress_version` the writer read (the API sends it; the page does
    not, its double-click check suffices); checked under the recommendation's row lock.

    Raises:
        FollowUpError: a status other than not started / in progress / completed, or no narrative
            (an update says what has been done).
        AlreadyRecorded: the latest update of the recommendation has the same author, status and
            narrative (a double click); nothing is added.
    """
    if status not in {s.value for s in ProgressStatus}:
        raise FollowUpError(_("Choose a progress status."))
    narrative = (narrative or "").strip()
    if not narrative:
        raise FollowUpError(_("Say what has been done."))
    evidence = (evidence or "").strip()
    _lock(recommendation)
    if base_version is not None:
        current = progress_version(recommendation)
        if base_version != current:
            raise ProgressChanged(current)
    same = {"author_id": user.id, "status": status, "narrative": narrative, "evidence": evidence}
    if repeats_latest(ProgressUpdate, ProgressUpdate.recommendation_id, recommendation.id, same):
        raise AlreadyRecorded(_("This progress update is already recorded."))
    update = ProgressUpdate(
        recommendation_id=recommendation.id,
        status=ProgressStatus(status),
        narrative=narrative,
        evidence=evidence,
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
        AlreadyRecorded: the latest assessment of the recommendation has the same author, status
            and note (a double click); nothing is added.
    """
    if status not in {s.value for s in AssessmentStatus}:
        raise FollowUpError(_("Choose an assessment."))
    note = (note or "").strip()
    _lock(recommendation)
    same = {"author_id": user.id, "status": status, "note": note}
    if repeats_latest(Assessment, Assessment.recommendation_id, recommendation.id, same):
        raise AlreadyRecorded(_("This assessment is already recorded."))
    assessment = Assessment(
        recommendation_id=recommendation.id,
        status=AssessmentStatus(status),
        note=note,
        author_id=user.id,
        created_at=clock.now(),
    )
    db.session.add(assessment)
    db.session.flush()
    return assessment
