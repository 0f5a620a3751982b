"""Mid-term reports: frozen, versioned snapshots of a review's follow-up (issue 5; the APRM's
progress reports and GRECO's compliance reports are the anchors).

The secretariat generates one from the data of a review in follow-up, enhanced follow-up or
closed: each recommendation with the state's response, its latest progress update and the
secretariat's latest assessment, and per-section figures. The snapshot is stored as JSON (plain
data, rendered with autoescaping) numbered 1, 2, … per review and never changes afterwards; later
progress needs a new version. The secretariat may publish a version: it then appears on the review's
public page when the state's consent is not ``none``. Officials' names are not part of the content.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.access import MIDTERM
from app.extensions import db
from app.models import (
    AssessmentStatus,
    MidtermReport,
    ProgressStatus,
    ResponsePosition,
    Review,
    User,
)
from app.services import clock, notification_rules
from app.services import follow_up as follow_up_service
from app.services.concurrency import locked_value


class MidtermError(ValueError):
    """A mid-term report that cannot be generated or published; the message says why."""


class Unchanged(MidtermError):
    """Nothing changed since the latest version (e.g. a double click); ``version`` names it."""

    def __init__(self, version: int) -> None:
        super().__init__(
            _("Nothing changed since version %(n)d; no new version was made.", n=version)
        )
        self.version = version


def snapshot_content(review: Review) -> dict[str, Any]:
    """The mid-term content of ``review`` now, as JSON-ready data.

    Shape: ``{"generated_at": ISO-8601 UTC, "state", "state_code", "cycle", "review_status",
    "totals": figures, "sections": [{"number", "code", "title", **figures}],
    "recommendations": [{"number": "2.1", "section", "text", "action_category", "carried",
    "response": {...} | None, "progress": {"status", "narrative", "evidence", "date"} | None,
    "assessment": {"status", "note", "date"} | None}]}`` where figures are
    ``{"recommendations": n, "position": {supported, noted, none}, "progress": {not_started,
    in_progress, completed, none}, "assessment": {implemented, …, none}}``. Dates are ISO UTC.
    """
    recommendations = follow_up_service.recommendations_of(review)
    rows = []
    sections: dict[int, dict[str, Any]] = {}
    numbering: Counter[int] = Counter()
    for rec in recommendations:
        section = rec.section
        numbering[section.number] += 1
        response = rec.response
        progress = _latest(rec.progress_updates)
        assessment = _latest(rec.assessments)
        row = {
            "number": f"{section.number}.{numbering[section.number]}",
            "section": f"{section.number}. {section.title}",
            "text": rec.text,
            "action_category": rec.action_category,
            "carried": rec.carried_from_id is not None,
            "response": None,
            "progress": None,
            "assessment": None,
        }
        if response is not None and response.position is not None:
            row["response"] = {
                "position": response.position.value,
                "explanation": response.explanation,
                "planned_action": response.planned_action,
                "responsible_institution": response.responsible_institution,
                "target_date": response.target_date.isoformat() if response.target_date else None,
            }
        if progress is not None:
            row["progress"] = {
                "status": progress.status.value,
                "narrative": progress.narrative,
                "evidence": progress.evidence,
                "date": progress.created_at.isoformat(),
            }
        if assessment is not None:
            row["assessment"] = {
                "status": assessment.status.value,
                "note": assessment.note,
                "date": assessment.created_at.isoformat(),
            }
        rows.append(row)
        figures = sections.setdefault(
            section.number,
            {"number": section.number, "code": section.code, "title": section.title}
            | _empty_figures(),
        )
        _count(figures, row)
    totals = _empty_figures()
    for row in rows:
        _count(totals, row)
    return {
        "generated_at": clock.now().isoformat(),
        "state": review.state.name,
        "state_code": review.state.code,
        "cycle": review.cycle.name,
        "review_status": review.status.value,
        "totals": totals,
        "sections": [sections[n] for n in sorted(sections)],
        "recommendations": rows,
    }


def _latest(entries):
    return max(entries, key=lambda e: (e.created_at, e.id)) if entries else None


def _empty_figures() -> dict[str, Any]:
    return {
        "recommendations": 0,
        "position": {p.value: 0 for p in ResponsePosition} | {"none": 0},
        "progress": {p.value: 0 for p in ProgressStatus} | {"none": 0},
        "assessment": {a.value: 0 for a in AssessmentStatus} | {"none": 0},
    }


def _count(figures: dict[str, Any], row: dict[str, Any]) -> None:
    figures["recommendations"] += 1
    figures["position"][row["response"]["position"] if row["response"] else "none"] += 1
    figures["progress"][row["progress"]["status"] if row["progress"] else "none"] += 1
    figures["assessment"][row["assessment"]["status"] if row["assessment"] else "none"] += 1


def generate(review: Review, user: User) -> MidtermReport:
    """Freeze the review's follow-up now as the next mid-term version; flush; return it.

    The review row is locked so two clicks cannot take the same version number (the unique
    (review, version) constraint is the last line).
    Raises:
        MidtermError: the review is not in follow-up, enhanced follow-up or closed.
        Unchanged: the content equals the latest version's (apart from its date): nothing added.
    """
    if locked_value(Review.status, review.id) not in MIDTERM:
        raise MidtermError(_("A mid-term report can be generated once the review is in follow-up."))
    latest = db.session.scalar(
        select(MidtermReport)
        .where(MidtermReport.review_id == review.id)
        .order_by(MidtermReport.version.desc())
        .limit(1)
    )
    content = snapshot_content(review)
    if latest is not None and _same(latest.content, content):
        raise Unchanged(latest.version)
    snapshot = MidtermReport(
        review_id=review.id,
        version=(latest.version if latest else 0) + 1,
        content=content,
        created_at=clock.now(),
        created_by_id=user.id,
    )
    db.session.add(snapshot)
    db.session.flush()
    # the state's focal points hear of it by e-mail and on their home page (issue 16, item 7)
    notification_rules.notify("review", "midterm_report", review)
    return snapshot


def _same(stored: dict[str, Any], fresh: dict[str, Any]) -> bool:
    """Whether two snapshot contents differ only by their generation instant."""

    def strip(content: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in content.items() if k != "generated_at"}

    return strip(stored) == strip(fresh)


def versions_of(review: Review) -> list[MidtermReport]:
    """The review's mid-term reports, newest version first."""
    return list(
        db.session.scalars(
            select(MidtermReport)
            .where(MidtermReport.review_id == review.id)
            .order_by(MidtermReport.version.desc())
        )
    )


def version_of(review: Review, version: int) -> MidtermReport | None:
    """Mid-term report ``version`` of ``review``, or None."""
    return db.session.scalar(
        select(MidtermReport).where(
            MidtermReport.review_id == review.id, MidtermReport.version == version
        )
    )


def publish(snapshot: MidtermReport, user: User) -> bool:
    """Mark ``snapshot`` published by ``user`` now; flush; False when it already was.

    Whether the public sees it still depends on the state's consent (`publication`).
    """
    if snapshot.published_at is not None:
        return False
    snapshot.published_at = clock.now()
    snapshot.published_by_id = user.id
    db.session.flush()
    return True
