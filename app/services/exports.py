"""Recommendations with their response and latest follow-up, listed and exported (CSV, XLSX).

Who sees what (DESIGN §5) comes from `app.access.visible_recommendations_clause`: a row is listed
or exported only when its report may be read on screen by the person asking. Filters are those of
the list page: cycle (id), state (ISO alpha-3 code), section (framework section code, e.g.
``SEC-2``), response (supported | noted | none), action category (UPR Info 1–5), status (the
latest secretariat assessment, or ``not_assessed``). Built in a fixed number of queries.

Spreadsheet safety: every text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with an apostrophe (OWASP "CSV injection"), in the CSV and the XLSX alike.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app import access
from app.extensions import db
from app.models import (
    Assessment,
    AssessmentStatus,
    Cycle,
    FrameworkSection,
    ProgressUpdate,
    Recommendation,
    Response,
    ResponsePosition,
    Review,
    State,
    User,
)
from app.services.latest import latest_per_recommendation

#: Columns of the exports, in order: (key, header).
COLUMNS = (
    ("cycle", "Cycle"),
    ("state_code", "State code"),
    ("state", "State"),
    ("section", "Section"),
    ("recommendation", "Recommendation"),
    ("priority", "Priority"),
    ("action_category", "Action category (UPR Info 1-5)"),
    ("addressee", "Addressee"),
    ("target_date", "Target date"),
    ("response", "Response"),
    ("explanation", "Explanation"),
    ("planned_action", "Planned action"),
    ("responsible_institution", "Responsible institution"),
    ("response_target_date", "Response target date"),
    ("progress", "Latest progress"),
    ("progress_date", "Latest progress date (UTC)"),
    ("assessment", "Latest assessment"),
    ("assessment_date", "Latest assessment date (UTC)"),
)

RESPONSE_FILTERS = (ResponsePosition.SUPPORTED.value, ResponsePosition.NOTED.value, "none")
STATUS_FILTERS = (*(s.value for s in AssessmentStatus), "not_assessed")
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Filters:
    """The list page's filters; empty strings / None mean "any"."""

    cycle: int | None = None
    state: str = ""
    section: str = ""
    response: str = ""
    action_category: int | None = None
    status: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        """From request arguments; values outside the scales are ignored (treated as "any")."""
        category = args.get("action_category", "")
        cycle = args.get("cycle", "")
        response = args.get("response", "")
        status = args.get("status", "")
        return cls(
            cycle=int(cycle) if cycle.isdigit() and len(cycle) < 10 else None,
            state=args.get("state", "").strip().upper()[:3],
            section=args.get("section", "").strip()[:10],
            response=response if response in RESPONSE_FILTERS else "",
            action_category=int(category) if category in {"1", "2", "3", "4", "5"} else None,
            status=status if status in STATUS_FILTERS else "",
        )

    def as_args(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in ("", None)}


def recommendation_rows(user: User, filters: Filters, limit: int | None = None) -> list[dict]:
    """The recommendations ``user`` may read, filtered, as dicts keyed by `COLUMNS` (plus
    ``review_id``); ordered by cycle, state, section. One query, of columns: ORM instances of
    20 000 recommendations and their responses took most of a full export's time (issue 9)."""
    progress = latest_per_recommendation(ProgressUpdate)
    assessment = latest_per_recommendation(Assessment)
    query = (
        select(
            Recommendation.text,
            Recommendation.priority,
            Recommendation.action_category,
            Recommendation.addressee,
            Recommendation.target_date,
            Review.id,
            Cycle.name,
            State.code,
            State.name,
            FrameworkSection.code,
            FrameworkSection.title,
            Response.position,
            Response.explanation,
            Response.planned_action,
            Response.responsible_institution,
            Response.target_date,
            progress.c.status,
            progress.c.created_at,
            assessment.c.status,
            assessment.c.created_at,
        )
        .join(Review, Review.id == Recommendation.review_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .join(State, State.id == Review.state_id)
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .outerjoin(Response, Response.recommendation_id == Recommendation.id)
        .outerjoin(progress, progress.c.recommendation_id == Recommendation.id)
        .outerjoin(assessment, assessment.c.recommendation_id == Recommendation.id)
        .where(access.visible_recommendations_clause(user))
        .order_by(Cycle.starts_on.desc(), State.name, FrameworkSection.number, Recommendation.id)
    )
    if filters.cycle:
        query = query.where(Review.cycle_id == filters.cycle)
    if filters.state:
        query = query.where(State.code == filters.state)
    if filters.section:
        query = query.where(FrameworkSection.code == filters.section)
    if filters.response == "none":
        query = query.where(Response.position.is_(None))
    elif filters.response:
        query = query.where(Response.position == ResponsePosition(filters.response))
    if filters.action_category:
        query = query.where(Recommendation.action_category == filters.action_category)
    if filters.status == "not_assessed":
        query = query.where(assessment.c.status.is_(None))
    elif filters.status:
        query = query.where(assessment.c.status == filters.status)
    if limit:
        query = query.limit(limit)
    rows = []
    for (
        text,
        priority,
        action_category,
        addressee,
        target_date,
        review_id,
        cycle,
        code,
        state,
        section_code,
        section_title,
        position,
        explanation,
        planned_action,
        institution,
        response_target_date,
        progress_status,
        progress_at,
        assessment_status,
        assessment_at,
    ) in db.session.execute(query):
        rows.append(
            {
                "review_id": review_id,
                "cycle": cycle,
                "state_code": code,
                "state": state,
                "section": f"{section_code} {section_title}",
                "recommendation": text,
                "priority": priority.value,
                "action_category": action_category,
                "addressee": addressee.value,
                "target_date": target_date.isoformat() if target_date else "",
                "response": position.value if position else "",
                "explanation": explanation or "",
                "planned_action": planned_action or "",
                "responsible_institution": institution or "",
                "response_target_date": (
                    response_target_date.isoformat() if response_target_date else ""
                ),
                "progress": _value(progress_status),
                "progress_date": _instant(progress_at),
                "assessment": _value(assessment_status),
                "assessment_date": _instant(assessment_at),
            }
        )
    return rows


def _value(status) -> str:
    if status is None:
        return ""
    return str(getattr(status, "value", status))


def _instant(value) -> str:
    if value is None:
        return ""
    text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return text[:16]


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text starting with = + - @ tab or CR gets a
    leading apostrophe; numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets read the accents) of ``rows`` under `COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _key, header in COLUMNS])
    for row in rows:
        writer.writerow([neutralise(row[key]) for key, _header in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict]) -> bytes:
    """An XLSX workbook (one sheet, "Recommendations") of ``rows`` under `COLUMNS`; control
    characters XLSX cannot hold are dropped."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value: Any) -> Any:
        # control characters (a vertical tab pasted from a word processor) are not allowed in
        # XLSX cells: drop them rather than fail the whole export
        value = neutralise(value)
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Recommendations"
    sheet.append([header for _key, header in COLUMNS])
    for row in rows:
        sheet.append([cell(row[key]) for key, _header in COLUMNS])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filter_choices(user: User) -> dict[str, list[tuple]]:
    """The cycles, states and sections offered by the filters: only cycles and states whose
    recommendations ``user`` may read. Three queries."""
    cycles = db.session.execute(
        select(Cycle.id, Cycle.name)
        .join(Review, Review.cycle_id == Cycle.id)
        .join(Recommendation, Recommendation.review_id == Review.id)
        .where(access.visible_recommendations_clause(user))
        .distinct()
        .order_by(Cycle.name)
    ).all()
    states = db.session.execute(
        select(State.code, State.name)
        .join(Review, Review.state_id == State.id)
        .join(Recommendation, Recommendation.review_id == Review.id)
        .where(access.visible_recommendations_clause(user))
        .distinct()
        .order_by(State.name)
    ).all()
    sections = db.session.execute(
        select(FrameworkSection.code, FrameworkSection.title, FrameworkSection.number)
        .distinct()
        .order_by(FrameworkSection.number, FrameworkSection.code)
    ).all()
    seen, section_choices = set(), []
    for code, title, _number in sections:
        if code not in seen:
            seen.add(code)
            section_choices.append((code, f"{code} {title}"))
    return {
        "cycles": [tuple(c) for c in cycles],
        "states": [tuple(s) for s in states],
        "sections": section_choices,
    }


# --- the national action plan (issue 17) --------------------------------------------------------

#: Columns of the action plan export: (key, header). ``budget_line`` only for those who may see
#: it (``action_plan.view_budget``: the state's focal points and the secretariat).
PLAN_COLUMNS = (
    ("measure_id", "Measure ID"),
    ("measure", "Measure"),
    ("status", "Status"),
    ("overdue", "Overdue"),
    ("recommendations", "Recommendations answered"),
    ("sections", "Sections"),
    ("lead_institution", "Lead institution"),
    ("contributors", "Contributing institutions"),
    ("start_date", "Start date"),
    ("due_date", "Due date"),
    ("indicators", "Indicators (latest value / target)"),
    ("milestones", "Milestones"),
    ("latest_progress", "Latest progress (UTC)"),
    ("budget_line", "Budget line"),
)


def action_plan_rows(review: Review, *, budget: bool) -> list[dict]:
    """One row per measure of ``review``'s plan under `PLAN_COLUMNS` (dates ISO, instants UTC);
    ``budget`` False leaves the budget line out (and its column, see `plan_columns`). The caller
    checked ``action_plan.view``. A fixed number of queries."""
    from app.services.action_plan import measure_overdue, measures_of, today_for

    today = today_for(review)
    rows = []
    for measure in measures_of(review):
        indicators = []
        for indicator in measure.indicators:
            latest = indicator.values[-1].value if indicator.values else None
            shown = "" if latest is None else f"{latest:g}"
            target = "" if indicator.target is None else f"{indicator.target:g}"
            indicators.append(f"{indicator.name}: {shown} / {target} {indicator.unit}".strip())
        milestones = [
            f"{m.due_date.isoformat()} {m.title}"
            + (f" (done {m.completed_on.isoformat()})" if m.completed_on else "")
            for m in measure.milestones
        ]
        row = {
            "measure_id": measure.id,
            "measure": measure.title,
            "status": _value(measure.status),
            "overdue": "yes" if measure_overdue(measure, today) else "",
            "recommendations": " | ".join(r.text for r in measure.recommendations),
            "sections": ", ".join(sorted({r.section.code for r in measure.recommendations})),
            "lead_institution": measure.lead_institution.name if measure.lead_institution else "",
            "contributors": ", ".join(i.name for i in measure.contributors),
            "start_date": measure.start_date.isoformat() if measure.start_date else "",
            "due_date": measure.due_date.isoformat() if measure.due_date else "",
            "indicators": " | ".join(indicators),
            "milestones": " | ".join(milestones),
            "latest_progress": _instant(measure.progress[-1].created_at)
            if measure.progress
            else "",
        }
        if budget:
            row["budget_line"] = measure.budget_line
        rows.append(row)
    return rows


def plan_columns(rows: list[dict]) -> list[tuple[str, str]]:
    """`PLAN_COLUMNS` without the budget line when the rows do not carry it."""
    with_budget = bool(rows) and "budget_line" in rows[0]
    return [(k, h) for k, h in PLAN_COLUMNS if k != "budget_line" or with_budget]


def action_plan_csv(rows: list[dict]) -> bytes:
    """UTF-8 CSV (with BOM) of `action_plan_rows`, spreadsheet-safe (`neutralise`)."""
    columns = plan_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _key, header in columns])
    for row in rows:
        writer.writerow([neutralise(row[key]) for key, _header in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def action_plan_xlsx(rows: list[dict]) -> bytes:
    """An XLSX workbook (one sheet, "Action plan", written in openpyxl's write-only mode) of
    `action_plan_rows`, spreadsheet-safe; control characters XLSX cannot hold are dropped."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    columns = plan_columns(rows)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Action plan")
    sheet.append([header for _key, header in columns])
    for row in rows:
        cells = []
        for key, _header in columns:
            value = neutralise(row[key])
            cells.append(ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
