"""Recommendations with their response and latest follow-up, listed and exported (CSV, XLSX).

Who sees what (DESIGN §5) comes from `app.access.visible_recommendations_clause`: a row is listed
or exported only when its report may be read on screen by the person asking. Filters are those of
the list page: cycle (id), state (ISO alpha-3 code), section (framework section code, e.g.
``SEC-2``), response (supported | noted | none), action category (UPR Info 1–5), status (the
latest secretariat assessment, or ``not_assessed``). Built in a fixed number of queries.

Spreadsheet safety: every text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with an apostrophe (OWASP "CSV injection"), in the CSV and the XLSX alike.
Both are written row by row from column tuples and streamed (issue 20): memory does not grow
with the number of rows.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Engine, String, cast, func, select, type_coerce

from app import access
from app.extensions import db
from app.models import (
    AssessmentStatus,
    Cycle,
    FrameworkSection,
    Recommendation,
    Response,
    ResponsePosition,
    Review,
    State,
    User,
)

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


#: The columns of `COLUMNS` holding free text, the only cells that can start a formula; the
#: others are enum values, numbers and ISO dates (issue 20: neutralise text cells only).
TEXT_KEYS = frozenset(
    {
        "cycle",
        "state_code",
        "state",
        "section",
        "recommendation",
        "explanation",
        "planned_action",
        "responsible_institution",
    }
)
#: Positions in a row of `COLUMNS` of the text cells, of the cells that hold dates.
TEXT_CELLS = tuple(i for i, (key, _h) in enumerate(COLUMNS) if key in TEXT_KEYS)
#: Rows fetched from the database at a time, and written to the response at a time.
BATCH = 1000


def _query(user: User, filters: Filters):
    """The export's SELECT: one row per recommendation ``user`` may read, filtered, ordered by
    cycle (newest first), state, section; columns: `COLUMNS`' cells, then the review id. Text is
    read as stored (no enum conversion), empty for none; dates and instants are formatted by the
    database, never by a Python call per cell (issue 20). Latest progress and assessment are
    the recommendation's current rows (app/models/current.py): no search of the histories,
    whatever their length."""

    def text(column):  # the stored value, "" for none: no per-cell conversion in Python
        return func.coalesce(type_coerce(column, String), "")

    def day(column):  # ISO 8601 "YYYY-MM-DD", as both databases write a date as text
        return func.coalesce(cast(column, String), "")

    def minute(column):  # "YYYY-MM-DD HH:MM" of a stored naive UTC instant
        return func.coalesce(func.substr(cast(column, String), 1, 16), "")

    query = (
        select(
            Cycle.name,
            State.code,
            State.name,
            FrameworkSection.code + " " + FrameworkSection.title,
            Recommendation.text,
            text(Recommendation.priority),
            Recommendation.action_category,
            text(Recommendation.addressee),
            day(Recommendation.target_date),
            text(Response.position),
            text(Response.explanation),
            text(Response.planned_action),
            text(Response.responsible_institution),
            day(Response.target_date),
            text(Recommendation.latest_progress_status),
            minute(Recommendation.latest_progress_at),
            text(Recommendation.latest_assessment_status),
            minute(Recommendation.latest_assessment_at),
            Review.id,
        )
        .join(Review, Review.id == Recommendation.review_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .join(State, State.id == Review.state_id)
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .outerjoin(Response, Response.recommendation_id == Recommendation.id)
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
        query = query.where(Recommendation.latest_assessment_status.is_(None))
    elif filters.status:
        query = query.where(Recommendation.latest_assessment_status == filters.status)
    return query


def export_tuples(
    user: User, filters: Filters, limit: int | None = None, engine: Engine | None = None
) -> Iterator[list]:
    """One list per recommendation ``user`` may read, filtered, in the export's order: the cells
    of `COLUMNS` (text, "" for none, except the action category: an int) and last the review
    id. Fetched `BATCH` rows at a time (a server-side cursor on PostgreSQL) without the ORM's
    result layer, so a full export never holds all its rows.

    The query is built when called (in the caller's context: ``user`` and the access rules are
    read then); the rows are read as the iterator is consumed, on the session's connection, or
    on a connection of ``engine`` of its own (closed when the iterator ends or is closed) for a
    response streamed after the request's context is gone."""
    query = _query(user, filters)
    if limit:
        query = query.limit(limit)
    return _rows(query.execution_options(yield_per=BATCH), engine)


def _rows(query, engine: Engine | None) -> Iterator[list]:
    """The rows of ``query`` as lists; the result (a server-side cursor on PostgreSQL) is closed
    however the iteration ends — exhausted, or the response closed before the last row."""
    if engine is None:
        yield from _closing(db.session.connection().execute(query))
        return
    with engine.connect() as connection:
        yield from _closing(connection.execute(query))


def _closing(result) -> Iterator[list]:
    try:
        for row in result:
            yield list(row)
    finally:
        result.close()


def recommendation_rows(user: User, filters: Filters, limit: int | None = None) -> list[dict]:
    """The recommendations ``user`` may read, filtered, as dicts keyed by `COLUMNS` (plus
    ``review_id``); ordered by cycle, state, section. One query (the list page's rows)."""
    keys = [key for key, _header in COLUMNS] + ["review_id"]
    return [dict(zip(keys, cells, strict=True)) for cells in export_tuples(user, filters, limit)]


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text starting with = + - @ tab or CR gets a
    leading apostrophe; numbers and other values pass unchanged."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _safe(cells: list) -> list:
    """``cells`` (changed in place) with the text cells neutralised, the review id dropped; the
    other cells (enum values, numbers, ISO dates) cannot start a formula."""
    del cells[-1]
    for index in TEXT_CELLS:
        value = cells[index]
        if value and value[0] in DANGEROUS_FIRST:
            cells[index] = "'" + value
    return cells


DANGEROUS_FIRST = frozenset(DANGEROUS_PREFIXES)


#: A cell the CSV must quote: it holds the delimiter, the quote or a line break (csv's
#: QUOTE_MINIMAL, which `to_csv` uses).
_NEEDS_QUOTES = re.compile(r'[",\r\n]').search
#: Position of the action category, the one number of a row.
_NUMBER_CELL = next(i for i, (key, _h) in enumerate(COLUMNS) if key == "action_category")


def _csv_line(cells: list) -> str:
    """One CSV line (with its CRLF) of an `export_tuples` row, byte for byte what
    ``csv.writer`` writes for the neutralised cells: only the text cells can start a formula or
    need quotes (the others are enum values, an int and ISO dates), so only they are looked at,
    and the line is joined in C rather than scanned character by character (issue 20)."""
    del cells[-1]  # the review id
    for index in TEXT_CELLS:
        value = cells[index]
        if value:
            if value[0] in DANGEROUS_FIRST:
                value = "'" + value
            if _NEEDS_QUOTES(value):
                value = '"' + value.replace('"', '""') + '"'
            cells[index] = value
    cells[_NUMBER_CELL] = str(cells[_NUMBER_CELL])
    return ",".join(cells) + "\r\n"


def csv_chunks(user: User, filters: Filters, engine: Engine | None = None) -> Iterator[bytes]:
    """The CSV export, UTF-8 with a BOM (so spreadsheets read the accents), as chunks of
    `BATCH` lines: the header under `COLUMNS`, then one line per recommendation of
    `export_tuples` (``engine``: see there), as ``csv.writer`` would write them. For a streamed
    response: nothing is built whole."""
    return _csv_chunks(export_tuples(user, filters, engine=engine))


def _csv_chunks(rows: Iterator[list]) -> Iterator[bytes]:
    header = io.StringIO()
    csv.writer(header).writerow([heading for _key, heading in COLUMNS])
    lines = ["\ufeff" + header.getvalue()]
    for cells in rows:
        lines.append(_csv_line(cells))
        if len(lines) >= BATCH:
            yield "".join(lines).encode("utf-8")
            lines.clear()
    yield "".join(lines).encode("utf-8")


def to_csv(rows: list[dict]) -> bytes:
    """UTF-8 CSV (with BOM) of ``rows`` (dicts of `recommendation_rows`) under `COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _key, header in COLUMNS])
    for row in rows:
        writer.writerow([neutralise(row[key]) for key, _header in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_file(user: User, filters: Filters) -> IO[bytes]:
    """The XLSX export (one sheet, "Recommendations", header row frozen) written row by row with
    openpyxl's write-only workbook into a temporary file; returned open at its start, for a
    streamed response (the caller closes it; it is deleted on close). Control characters XLSX
    cannot hold are dropped from text cells."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Recommendations")
    sheet.freeze_panes = "A2"
    sheet.append([header for _key, header in COLUMNS])
    clean = ILLEGAL_CHARACTERS_RE.sub
    for cells in export_tuples(user, filters):
        row = _safe(cells)
        for index in TEXT_CELLS:
            # a vertical tab pasted from a word processor is not allowed in an XLSX cell: drop
            # it rather than fail the whole export
            row[index] = clean("", row[index])
        sheet.append(row)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    workbook.save(out)
    out.seek(0)
    return out


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


def _value(status) -> str:
    """An enum's stored value ("" for none), as the exports write statuses."""
    if status is None:
        return ""
    return str(getattr(status, "value", status))


def _instant(value) -> str:
    """``YYYY-MM-DD HH:MM`` of a UTC instant ("" for none)."""
    if value is None:
        return ""
    text = value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)
    return text[:16]


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
