"""The state's national action plan (issue 17; DESIGN §3 "Measure"): institutions, measures and
their links to recommendations, indicators with dated values, milestones, progress entries with
evidence files, and the plan read by recommendation, measure, institution, section and date.

Rules (from the APRM National Programme of Action and OHCHR's recommendation-tracking practice):
a measure answers one or more recommendations of its own review (carried-over recommendations are
rows of that review too); lead and contributing institutions come from the state's own list;
history is never overwritten — indicator values and progress entries are append-only, a measure
with progress is cancelled with a reason, never deleted.

Every function takes plain arguments (ids, strings, dates) and validates them here, so that the
pages and the API share one set of rules; they flush, never commit. A write to an existing measure
or indicator passes the ``version`` the writer saw: an older one raises `StaleWrite` (HTTP 409).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (
    FrameworkSection,
    Indicator,
    IndicatorValue,
    Institution,
    Measure,
    MeasureProgress,
    MeasureStatus,
    Milestone,
    Recommendation,
    ReportingFrequency,
    ResponsePosition,
    Review,
    User,
)
from app.models.action_plan import (
    FREQUENCY_MONTHS,
    measure_contributor,
    measure_progress_file,
    measure_recommendation,
)
from app.services import clock, evidence
from app.services.concurrency import locked_value

#: Measure statuses that need no more work (never overdue).
FINISHED = (MeasureStatus.COMPLETED, MeasureStatus.CANCELLED)
TITLE_MAX = 300
NAME_MAX = 200


class PlanError(ValueError):
    """Input the plan cannot store; the message is for the person, ``field`` names the form
    field it concerns (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleWrite(PlanError):
    """Someone changed the measure or indicator after the writer loaded it (HTTP 409)."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone changed this measure after you opened it; nothing was saved. Check the "
                "current version below and save again."
            )
        )


class HasProgress(PlanError):
    """A measure with progress entries cannot be deleted: cancel it instead."""

    def __init__(self) -> None:
        super().__init__(
            _("This measure has progress reported and cannot be deleted; cancel it instead.")
        )


def today_for(review: Review) -> date:
    """Today's date in the review's cycle time zone (due dates are days there)."""
    return clock.now().astimezone(ZoneInfo(review.cycle.time_zone)).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day (31 Jan + 1 →
    28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _text(value: str | None, limit: int | None = None) -> str:
    text = " ".join((value or "").split()) if limit else (value or "").strip()
    return text[:limit] if limit else text


def _check_version(current: int, version: int | None) -> None:
    if version is not None and int(version) != int(current):
        raise StaleWrite()


# --- institutions ------------------------------------------------------------------------------


def institutions_of(state_id: int) -> list[Institution]:
    """The state's list of institutions, by name."""
    return list(
        db.session.scalars(
            select(Institution).where(Institution.state_id == state_id).order_by(Institution.name)
        )
    )


def add_institution(state_id: int, name: str, user: User) -> Institution:
    """Add ``name`` to the state's list and return it; the existing entry when the name is
    already there (compared case-insensitively, spaces collapsed). Flushes.

    Raises:
        PlanError: an empty name, or longer than 200 characters.
    """
    name = _text(name, 10_000)
    if not name:
        raise PlanError(_("Give the institution's name."), "name")
    if len(name) > NAME_MAX:
        raise PlanError(_("Keep the name under %(max)d characters.", max=NAME_MAX), "name")
    existing = db.session.scalar(
        select(Institution).where(
            Institution.state_id == state_id, func.lower(Institution.name) == name.lower()
        )
    )
    if existing is not None:
        return existing
    institution = Institution(state_id=state_id, name=name, created_at=clock.now())
    db.session.add(institution)
    db.session.flush()
    return institution


# --- measures ----------------------------------------------------------------------------------


def measure_of(review: Review, measure_id: int) -> Measure | None:
    """Measure ``measure_id`` if it belongs to ``review``'s plan, else None."""
    measure = db.session.get(Measure, measure_id)
    return measure if measure is not None and measure.review_id == review.id else None


def _recommendations(review: Review, ids: Iterable[int]) -> list[Recommendation]:
    wanted = {int(i) for i in ids}
    if not wanted:
        raise PlanError(
            _("Choose at least one recommendation that this measure answers."), "recommendations"
        )
    found = list(
        db.session.scalars(
            select(Recommendation).where(
                Recommendation.id.in_(wanted), Recommendation.review_id == review.id
            )
        )
    )
    if len(found) != len(wanted):
        raise PlanError(
            _("A measure can only answer recommendations of this review."), "recommendations"
        )
    return found


def _institutions(review: Review, ids: Iterable[int]) -> list[Institution]:
    wanted = {int(i) for i in ids if i}
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            select(Institution).where(
                Institution.id.in_(wanted), Institution.state_id == review.state_id
            )
        )
    )
    if len(found) != len(wanted):
        raise PlanError(_("Choose institutions from the state's list."), "contributors")
    return found


def save_measure(
    review: Review,
    user: User,
    *,
    title: str,
    recommendation_ids: Iterable[int],
    description: str = "",
    lead_institution_id: int | None = None,
    contributor_ids: Iterable[int] = (),
    start_date: date | None = None,
    due_date: date | None = None,
    budget_line: str = "",
    status: str = MeasureStatus.PLANNED,
    cancel_reason: str = "",
    measure: Measure | None = None,
    version: int | None = None,
) -> Measure:
    """Create a measure of ``review``'s plan (``measure`` None) or change ``measure``; flush.

    ``recommendation_ids``: the recommendations it answers (this review's only); institutions by
    id from the state's list; dates are days in the cycle's zone; ``status`` one of planned,
    ongoing, completed, delayed, cancelled (cancelled needs ``cancel_reason``).

    Raises:
        PlanError: no title, no recommendation, another review's recommendation, an institution
            not on the state's list, a due date before the start, an unknown status, a
            cancellation without reason.
        StaleWrite: ``version`` is not the measure's current version.
    """
    title = _text(title, 10_000)
    if not title:
        raise PlanError(_("Give the measure a title."), "title")
    if len(title) > TITLE_MAX:
        raise PlanError(_("Keep the title under %(max)d characters.", max=TITLE_MAX), "title")
    if status not in {s.value for s in MeasureStatus}:
        raise PlanError(_("Choose a status."), "status")
    cancel_reason = _text(cancel_reason)
    if status == MeasureStatus.CANCELLED and not cancel_reason:
        raise PlanError(_("Say why the measure is cancelled."), "cancel_reason")
    if start_date and due_date and due_date < start_date:
        raise PlanError(_("The due date cannot be before the start date."), "due_date")
    recommendations = _recommendations(review, recommendation_ids)
    lead = _institutions(review, [lead_institution_id] if lead_institution_id else [])
    contributors = _institutions(review, contributor_ids)
    now = clock.now()
    if measure is None:
        measure = Measure(review_id=review.id, created_by_id=user.id, created_at=now)
        db.session.add(measure)
    else:
        if measure.review_id != review.id:
            raise PlanError(_("This measure belongs to another review."))
        current = locked_value(Measure.version_id, measure.id)
        _check_version(current, version)
    measure.title = title
    measure.description = _text(description)
    measure.lead_institution = lead[0] if lead else None
    measure.contributors = [c for c in contributors if not lead or c.id != lead[0].id]
    measure.start_date = start_date
    measure.due_date = due_date
    measure.budget_line = _text(budget_line)
    measure.status = MeasureStatus(status)
    measure.cancel_reason = cancel_reason if status == MeasureStatus.CANCELLED else ""
    measure.recommendations = recommendations
    measure.updated_at = now
    db.session.flush()
    return measure


def delete_measure(measure: Measure, user: User, version: int | None = None) -> None:
    """Delete a measure that has no progress yet (a mistake); flush.

    Raises:
        HasProgress: progress was reported on it (cancel it instead: history is kept).
        StaleWrite: ``version`` is not the measure's current version.
    """
    _check_version(locked_value(Measure.version_id, measure.id), version)
    has_progress = db.session.scalar(
        select(func.count(MeasureProgress.id)).where(MeasureProgress.measure_id == measure.id)
    )
    if has_progress:
        raise HasProgress()
    indicator_ids = select(Indicator.id).where(Indicator.measure_id == measure.id)
    db.session.execute(delete(IndicatorValue).where(IndicatorValue.indicator_id.in_(indicator_ids)))
    db.session.execute(delete(Indicator).where(Indicator.measure_id == measure.id))
    db.session.execute(delete(Milestone).where(Milestone.measure_id == measure.id))
    db.session.execute(
        delete(measure_recommendation).where(measure_recommendation.c.measure_id == measure.id)
    )
    db.session.execute(
        delete(measure_contributor).where(measure_contributor.c.measure_id == measure.id)
    )
    db.session.delete(measure)
    db.session.flush()


def _number(value, field_name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(str(value).replace(",", ".").strip())
    except ValueError:
        raise PlanError(_("Give a number."), field_name) from None


def add_indicator(
    measure: Measure,
    user: User,
    *,
    name: str,
    unit: str = "",
    baseline: float | str | None = None,
    target: float | str | None = None,
    frequency: str = ReportingFrequency.ANNUAL,
) -> Indicator:
    """Add an indicator to ``measure``: ``unit`` is free text ("cases", "%"), baseline and target
    numbers in it, ``frequency`` monthly | quarterly | semiannual | annual. Flushes.

    Raises:
        PlanError: no name, a baseline or target that is not a number, an unknown frequency.
    """
    name = _text(name, 10_000)
    if not name:
        raise PlanError(_("Give the indicator a name."), "name")
    if len(name) > TITLE_MAX:
        raise PlanError(_("Keep the name under %(max)d characters.", max=TITLE_MAX), "name")
    if frequency not in {f.value for f in ReportingFrequency}:
        raise PlanError(_("Choose how often it is reported."), "frequency")
    indicator = Indicator(
        measure_id=measure.id,
        name=name,
        unit=_text(unit, 60),
        baseline=_number(baseline, "baseline"),
        target=_number(target, "target"),
        frequency=ReportingFrequency(frequency),
        created_at=clock.now(),
    )
    db.session.add(indicator)
    db.session.flush()
    return indicator


def add_milestone(measure: Measure, user: User, *, title: str, due_date: date | None) -> Milestone:
    """Add a dated milestone to ``measure``; flush.

    Raises:
        PlanError: no title or no date.
    """
    title = _text(title, 10_000)
    if not title:
        raise PlanError(_("Give the milestone a title."), "title")
    if len(title) > TITLE_MAX:
        raise PlanError(_("Keep the title under %(max)d characters.", max=TITLE_MAX), "title")
    if due_date is None:
        raise PlanError(_("Give the milestone's date."), "due_date")
    milestone = Milestone(measure_id=measure.id, title=title, due_date=due_date)
    db.session.add(milestone)
    db.session.flush()
    return milestone


def report_progress(
    measure: Measure,
    user: User,
    *,
    narrative: str,
    status: str,
    values: dict[int, float | str | None] | None = None,
    measured_on: date | None = None,
    completed_milestone_ids: Iterable[int] = (),
    uploads: Iterable[FileStorage] = (),
    version: int | None = None,
) -> MeasureProgress:
    """Record a progress entry on ``measure``: narrative, the measure's status now, indicator
    values (by indicator id; empty ones skipped) as of ``measured_on`` (default today in the
    cycle's zone), milestones completed, evidence files (the self-assessment's safe upload).
    Nothing earlier is changed; the measure's status becomes ``status``. Flushes.

    Raises:
        PlanError: no narrative, an unknown status, a cancellation (edit the measure to give the
            reason), a value that is not a number, an indicator or milestone of another measure,
            a date in the future.
        evidence.EvidenceRefused: a file that is not accepted (nothing is stored).
        StaleWrite: ``version`` is not the measure's current version.
    """
    narrative = _text(narrative)
    if not narrative:
        raise PlanError(_("Say what has been done."), "narrative")
    if status not in {s.value for s in MeasureStatus} or status == MeasureStatus.CANCELLED:
        raise PlanError(_("Choose a status."), "status")
    _check_version(locked_value(Measure.version_id, measure.id), version)
    today = today_for(measure.review)
    measured_on = measured_on or today
    if measured_on > today:
        raise PlanError(_("The date of the values cannot be in the future."), "measured_on")
    indicators = {i.id: i for i in measure.indicators}
    numbers: dict[int, float] = {}
    for indicator_id, raw in (values or {}).items():
        if int(indicator_id) not in indicators:
            raise PlanError(_("This indicator belongs to another measure."), "values")
        number = _number(raw, f"value_{indicator_id}")
        if number is not None:
            numbers[int(indicator_id)] = number
    milestones = {m.id: m for m in measure.milestones}
    done = {int(i) for i in completed_milestone_ids}
    if done - set(milestones):
        raise PlanError(_("This milestone belongs to another measure."), "milestones")
    checked = [evidence.checked_upload(upload) for upload in uploads if upload and upload.filename]
    now = clock.now()
    entry = MeasureProgress(
        measure_id=measure.id,
        narrative=narrative,
        status_before=measure.status,
        status_after=MeasureStatus(status),
        author_id=user.id,
        created_at=now,
    )
    db.session.add(entry)
    db.session.flush()
    for indicator_id, number in numbers.items():
        db.session.add(
            IndicatorValue(
                indicator_id=indicator_id,
                progress_id=entry.id,
                value=number,
                measured_on=measured_on,
                recorded_by_id=user.id,
                recorded_at=now,
            )
        )
    for milestone_id in done:
        milestone = milestones[milestone_id]
        if milestone.completed_on is None:
            milestone.completed_on = measured_on
            milestone.completed_progress_id = entry.id
    for name, data, kind in checked:
        record = evidence.store(measure.review, name, data, kind, user)
        db.session.execute(
            measure_progress_file.insert().values(progress_id=entry.id, evidence_file_id=record.id)
        )
    measure.status = MeasureStatus(status)
    measure.updated_at = now
    db.session.flush()
    return entry


def progress_file_of(review: Review, file_id: int):
    """The evidence file ``file_id`` if it is attached to a progress entry of ``review``'s plan
    (and not removed), else None."""
    from app.models import EvidenceFile

    return db.session.scalar(
        select(EvidenceFile)
        .join(measure_progress_file, measure_progress_file.c.evidence_file_id == EvidenceFile.id)
        .where(
            EvidenceFile.id == file_id,
            EvidenceFile.review_id == review.id,
            EvidenceFile.removed_at.is_(None),
        )
    )


# --- reading the plan --------------------------------------------------------------------------


@dataclass
class TimelineItem:
    """One dated thing of the plan: ``kind`` is measure | milestone | indicator."""

    day: date
    kind: str
    label: str
    measure: Measure
    overdue: bool


@dataclass
class Plan:
    """A review's action plan, read every way the plan page shows it."""

    review: Review
    today: date
    measures: list[Measure]
    recommendations: list[Recommendation]
    by_recommendation: dict[int, list[Measure]] = field(default_factory=dict)
    by_institution: list[tuple[Institution, list[tuple[Measure, bool]]]] = field(
        default_factory=list
    )
    by_section: list[tuple[FrameworkSection, list[Measure]]] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    overdue_measures: set[int] = field(default_factory=set)
    overdue_indicators: set[int] = field(default_factory=set)
    next_indicator_report: dict[int, date] = field(default_factory=dict)
    uncovered: list[Recommendation] = field(default_factory=list)
    status_counts: dict[str, int] = field(default_factory=dict)


def measure_overdue(measure: Measure, today: date) -> bool:
    """A measure past its due date and neither completed nor cancelled."""
    return (
        measure.due_date is not None and measure.due_date < today and measure.status not in FINISHED
    )


def next_report_due(indicator: Indicator, start: date) -> date:
    """When the indicator's next value is due: its frequency after its latest value (or after
    ``start``, the measure's start or creation day, when it has none)."""
    last = indicator.values[-1].measured_on if indicator.values else None
    return next_report_day(indicator.frequency, last, start)


def next_report_day(frequency: str, last: date | None, start: date) -> date:
    """`next_report_due` from plain values: ``frequency`` (`ReportingFrequency`), the latest
    value's date or None, and the measure's start day."""
    return add_months(last or start, FREQUENCY_MONTHS[ReportingFrequency(frequency)])


def measures_of(review: Review) -> list[Measure]:
    """The review's measures with everything the plan page shows, loaded in a fixed number of
    queries; by due date (undated last), then id."""
    return list(
        db.session.scalars(
            select(Measure)
            .where(Measure.review_id == review.id)
            .options(
                selectinload(Measure.recommendations).selectinload(Recommendation.section),
                selectinload(Measure.lead_institution),
                selectinload(Measure.contributors),
                selectinload(Measure.indicators).selectinload(Indicator.values),
                selectinload(Measure.milestones),
                selectinload(Measure.progress).selectinload(MeasureProgress.files),
                selectinload(Measure.progress).selectinload(MeasureProgress.values),
            )
            .order_by(Measure.due_date.is_(None), Measure.due_date, Measure.id)
        )
    )


def plan_of(review: Review) -> Plan:
    """``review``'s plan read by recommendation, measure, institution, section and date, with
    what is overdue (today in the cycle's zone) and the supported recommendations no measure
    answers yet."""
    today = today_for(review)
    measures = measures_of(review)
    recommendations = list(
        db.session.scalars(
            select(Recommendation)
            .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
            .where(Recommendation.review_id == review.id)
            .options(selectinload(Recommendation.section), selectinload(Recommendation.response))
            .order_by(FrameworkSection.number, Recommendation.id)
        )
    )
    plan = Plan(review=review, today=today, measures=measures, recommendations=recommendations)
    by_rec: dict[int, list[Measure]] = defaultdict(list)
    by_inst: dict[int, list[tuple[Measure, bool]]] = defaultdict(list)
    institutions: dict[int, Institution] = {}
    sections: dict[int, FrameworkSection] = {}
    by_sec: dict[int, list[Measure]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for measure in measures:
        counts[str(measure.status)] += 1
        for rec in measure.recommendations:
            by_rec[rec.id].append(measure)
            sections[rec.section_id] = rec.section
            if measure not in by_sec[rec.section_id]:
                by_sec[rec.section_id].append(measure)
        if measure.lead_institution is not None:
            institutions[measure.lead_institution.id] = measure.lead_institution
            by_inst[measure.lead_institution.id].append((measure, True))
        for inst in measure.contributors:
            institutions[inst.id] = inst
            by_inst[inst.id].append((measure, False))
        late = measure_overdue(measure, today)
        if late:
            plan.overdue_measures.add(measure.id)
        if measure.due_date is not None:
            plan.timeline.append(
                TimelineItem(measure.due_date, "measure", measure.title, measure, late)
            )
        for milestone in measure.milestones:
            if milestone.completed_on is None:
                plan.timeline.append(
                    TimelineItem(
                        milestone.due_date,
                        "milestone",
                        milestone.title,
                        measure,
                        milestone.due_date < today and measure.status not in FINISHED,
                    )
                )
        start = measure.start_date or measure.created_at.date()
        for indicator in measure.indicators:
            due = next_report_due(indicator, start)
            plan.next_indicator_report[indicator.id] = due
            if measure.status in FINISHED:
                continue
            late_report = due < today
            if late_report:
                plan.overdue_indicators.add(indicator.id)
            plan.timeline.append(
                TimelineItem(due, "indicator", indicator.name, measure, late_report)
            )
    plan.timeline.sort(key=lambda item: (item.day, item.kind, item.label))
    plan.by_recommendation = dict(by_rec)
    plan.by_institution = [
        (institutions[i], by_inst[i])
        for i in sorted(institutions, key=lambda i: institutions[i].name)
    ]
    plan.by_section = [
        (sections[s], by_sec[s]) for s in sorted(sections, key=lambda s: sections[s].number)
    ]
    plan.uncovered = [
        rec
        for rec in recommendations
        if rec.id not in by_rec
        and rec.response is not None
        and rec.response.position == ResponsePosition.SUPPORTED
    ]
    plan.status_counts = dict(counts)
    return plan


def roll_up(review_ids: Iterable[int] | None = None) -> list[dict]:
    """Measures per state and framework section for the secretariat's dashboard: one dict per
    (state's review, section) with ``state``, ``review_id``, ``section`` (code), ``measures`` and a
    count per status, plus
    ``overdue`` (due before today in UTC, not finished). A measure answering recommendations of
    two sections counts in both. One query."""
    from app.models import State

    today = clock.now().date()
    query = (
        select(
            State.name,
            State.code,
            Review.id,
            FrameworkSection.number,
            FrameworkSection.code,
            Measure.id,
            Measure.status,
            Measure.due_date,
        )
        .select_from(Measure)
        .join(Review, Review.id == Measure.review_id)
        .join(State, State.id == Review.state_id)
        .join(measure_recommendation, measure_recommendation.c.measure_id == Measure.id)
        .join(Recommendation, Recommendation.id == measure_recommendation.c.recommendation_id)
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .distinct()
    )
    if review_ids is not None:
        query = query.where(Measure.review_id.in_(list(review_ids)))
    rows: dict[tuple, dict] = {}
    for name, code, review_id, number, section, _id, status, due in db.session.execute(query):
        row = rows.setdefault(
            (name, review_id, number, section),
            {
                "state": name,
                "state_code": code,
                "review_id": review_id,
                "section": section,
                "measures": 0,
                "overdue": 0,
            }
            | {s.value: 0 for s in MeasureStatus},
        )
        row["measures"] += 1
        row[str(status)] += 1
        if due is not None and due < today and status not in FINISHED:
            row["overdue"] += 1
    return [rows[key] for key in sorted(rows)]
