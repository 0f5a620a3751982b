"""Publication of reviews: the state's consent, and what the public pages may read (issue 5,
DESIGN §5 last bullet).

Consent is given per review by a focal point of the reviewed state once the secretariat adopted
the report: ``full`` (executive summary, per-section findings, consensus ratings and good
practices, recommendations with the state's responses and their latest implementation status, and
the state's factual-accuracy comments, which the APRM practice appends to the published report),
``summary`` (executive summary and the recommendations only: no responses, no status), or
``none`` (the default: nothing). Every change is a new `PublicationConsent` row (who, when).

A review is *published* when its report is adopted (``Report.adopted_at`` set and the review in
response, follow-up, enhanced follow-up or closed — never withdrawn) and its newest consent is
``full`` or ``summary``. Everything public is read through `published_clause` so that no public
surface (report, database, CSV, good-practice library) can show an unconsented review.
Individual evaluations and reviewers' drafts are never public; names of officials are never shown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.access import REPORT_ADOPTED
from app.extensions import db
from app.i18n import sorted_by_name, state_name
from app.models import (
    Assessment,
    AssessmentStatus,
    ConsentLevel,
    Cycle,
    FactualComment,
    FrameworkSection,
    MidtermReport,
    PublicationConsent,
    Recommendation,
    RegionalGroup,
    Report,
    ReportSection,
    Response,
    ResponsePosition,
    Review,
    State,
    User,
)
from app.services import clock
from app.services.concurrency import locked_value
from app.services.exports import neutralise
from app.services.latest import latest_per_recommendation

#: Consent levels that publish something.
PUBLISHING = (ConsentLevel.FULL, ConsentLevel.SUMMARY)
#: Rows per page of the public recommendations database.
PER_PAGE = 25


class PublicationError(ValueError):
    """A consent that cannot be stored; the message says why."""


# --- consent ---------------------------------------------------------------------------------


def consent_history(review: Review) -> list[PublicationConsent]:
    """The review's consent decisions, newest first, with their authors."""
    return list(
        db.session.scalars(
            select(PublicationConsent)
            .where(PublicationConsent.review_id == review.id)
            .options(selectinload(PublicationConsent.author))
            .order_by(PublicationConsent.created_at.desc(), PublicationConsent.id.desc())
        )
    )


def consent_of(review: Review) -> ConsentLevel:
    """The review's current consent (its newest decision), ``none`` when never given."""
    level = db.session.scalar(
        select(PublicationConsent.level)
        .where(PublicationConsent.review_id == review.id)
        .order_by(PublicationConsent.created_at.desc(), PublicationConsent.id.desc())
        .limit(1)
    )
    return level or ConsentLevel.NONE


def set_consent(review: Review, level: str, user: User) -> PublicationConsent | None:
    """Record the state's consent ``level`` (``full`` | ``summary`` | ``none``) by ``user``;
    flush; return the new row, or None when it is already the current consent (nothing stored).

    The caller checks ``publication.set`` (a focal point of the reviewed state). The review row
    is locked and its status re-read, so a consent never lands on a review that is not adopted.

    Raises:
        PublicationError: an unknown level, or the report is not adopted (or the review was
            withdrawn).
    """
    if level not in {c.value for c in ConsentLevel}:
        raise PublicationError(_("Choose what may be published."))
    if locked_value(Review.status, review.id) not in REPORT_ADOPTED:
        raise PublicationError(_("Publication can be decided only once the report is adopted."))
    if consent_of(review) == level:
        return None
    row = PublicationConsent(
        review_id=review.id, level=ConsentLevel(level), author_id=user.id, created_at=clock.now()
    )
    db.session.add(row)
    db.session.flush()  # the review's current consent follows (app/models/current.py)
    return row


def published_reviews() -> Select:
    """``select(review_id, level)`` of every published review: report adopted, review in
    response / follow-up / enhanced follow-up / closed, newest consent full or summary."""
    # the current consent is kept on the review (app/services/current.py): no search of every
    # cycle's consent history (issue 20)
    return (
        select(Review.id.label("review_id"), Review.publication_level.label("level"))
        .join(Report, Report.review_id == Review.id)
        .where(
            Review.status.in_(REPORT_ADOPTED),
            Report.adopted_at.is_not(None),
            Review.publication_level.in_([c.value for c in PUBLISHING]),
        )
    )


def published_level(review: Review) -> ConsentLevel:
    """What of ``review`` the public may read now: ``full``, ``summary`` or ``none``."""
    return public_report_level(review.id)


# --- public report ---------------------------------------------------------------------------


@dataclass
class PublicReport:
    """What a public report page shows; fields the consent does not cover stay empty."""

    review: Review
    level: ConsentLevel
    report: Report
    sections: list[tuple[FrameworkSection, ReportSection | None]] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    latest_assessment: dict[int, Assessment] = field(default_factory=dict)
    comments: list[FactualComment] = field(default_factory=list)
    midterms: list[MidtermReport] = field(default_factory=list)


def published_index() -> list[tuple[Review, ConsentLevel, datetime]]:
    """Every published review with its level and adoption instant (UTC), newest cycle first."""
    sub = published_reviews().subquery()
    rows = db.session.execute(
        select(Review, sub.c.level, Report.adopted_at)
        .join(sub, sub.c.review_id == Review.id)
        .join(Report, Report.review_id == Review.id)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(State, Review.state_id == State.id)
        .options(selectinload(Review.state), selectinload(Review.cycle))
        .order_by(Cycle.starts_on.desc(), State.name)
    ).all()
    return [(review, ConsentLevel(level), adopted) for review, level, adopted in rows]


def public_report(review_id: int) -> PublicReport | None:
    """The public view of review ``review_id``, or None when it is not published (the page is
    then a 404: an unpublished review must not even be known to exist)."""
    review = db.session.get(Review, review_id)
    if review is None:
        return None
    level = published_level(review)
    if level == ConsentLevel.NONE:
        return None
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    result = PublicReport(review=review, level=level, report=report)
    result.recommendations = list(
        db.session.scalars(
            select(Recommendation)
            .join(FrameworkSection, Recommendation.section_id == FrameworkSection.id)
            .where(Recommendation.review_id == review.id)
            .options(selectinload(Recommendation.section), selectinload(Recommendation.response))
            .order_by(FrameworkSection.number, Recommendation.id)
        )
    )
    if level == ConsentLevel.FULL:
        rows = {
            row.section_id: row
            for row in db.session.scalars(
                select(ReportSection).where(ReportSection.report_id == report.id)
            )
        }
        result.sections = [(s, rows.get(s.id)) for s in review.cycle.framework.sections]
        result.latest_assessment = latest_assessments([r.id for r in result.recommendations])
        result.comments = list(
            db.session.scalars(
                select(FactualComment)
                .where(FactualComment.report_id == report.id)
                .options(selectinload(FactualComment.section))
                .order_by(FactualComment.created_at, FactualComment.id)
            )
        )
    result.midterms = list(
        db.session.scalars(
            select(MidtermReport)
            .where(MidtermReport.review_id == review.id, MidtermReport.published_at.is_not(None))
            .order_by(MidtermReport.version.desc())
        )
    )
    return result


def published_midterm(review_id: int, version: int) -> MidtermReport | None:
    """Mid-term report ``version`` of review ``review_id`` if the secretariat published it and
    the review is published (consent not ``none``), else None."""
    if public_report_level(review_id) == ConsentLevel.NONE:
        return None
    return db.session.scalar(
        select(MidtermReport).where(
            MidtermReport.review_id == review_id,
            MidtermReport.version == version,
            MidtermReport.published_at.is_not(None),
        )
    )


def public_report_level(review_id: int) -> ConsentLevel:
    """`published_level` by review id (``none`` for an unknown id)."""
    sub = published_reviews().subquery()
    level = db.session.scalar(select(sub.c.level).where(sub.c.review_id == review_id))
    return ConsentLevel(level) if level is not None else ConsentLevel.NONE


def latest_assessments(recommendation_ids: list[int]) -> dict[int, Assessment]:
    """The newest assessment of each recommendation in ``recommendation_ids`` (one query)."""
    if not recommendation_ids:
        return {}
    sub = latest_per_recommendation(Assessment, among=recommendation_ids, name="latest_assessment")
    return {
        a.recommendation_id: a
        for a in db.session.scalars(
            select(Assessment)
            .join(sub, sub.c.id == Assessment.id)
            .where(Assessment.recommendation_id.in_(recommendation_ids))
        )
    }


# --- public recommendations database ----------------------------------------------------------

#: The "implementation status" filter value of recommendations never assessed.
NOT_ASSESSED = "not_assessed"


@dataclass
class RecommendationFilters:
    """The filters of the public recommendations database, as typed in the query string.

    ``state``: ISO alpha-3 code; ``group``: UN regional group; ``section``: framework section code
    (stable across framework versions, e.g. ``SEC``); ``response``: supported | noted;
    ``category``: UPR Info action category 1–5; ``status``: latest assessment status or
    ``not_assessed``; ``q``: words the recommendation text contains; ``page``: 1-based.
    Unknown values are dropped and named in ``errors`` (shown on the page), never a 500.
    """

    state: str = ""
    group: str = ""
    section: str = ""
    response: str = ""
    category: str = ""
    status: str = ""
    q: str = ""
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> RecommendationFilters:
        """Read the filters from ``request.args``; invalid values are dropped with a message."""
        found = cls(q=(args.get("q") or "").strip()[:200])
        checks = {
            "state": (
                set(db.session.scalars(select(State.code))),
                _("Unknown state code."),
            ),
            "group": ({g.value for g in RegionalGroup}, _("Unknown regional group.")),
            "section": (
                set(db.session.scalars(select(FrameworkSection.code))),
                _("Unknown section."),
            ),
            "response": ({p.value for p in ResponsePosition}, _("Unknown response.")),
            "category": ({str(n) for n in range(1, 6)}, _("The action category is 1 to 5.")),
            "status": (
                {s.value for s in AssessmentStatus} | {NOT_ASSESSED},
                _("Unknown implementation status."),
            ),
        }
        for name, (allowed, message) in checks.items():
            value = (args.get(name) or "").strip()
            if name == "state":
                value = value.upper()
            if value and value not in allowed:
                found.errors.append(message)
                value = ""
            setattr(found, name, value)
        page = (args.get("page") or "1").strip()
        found.page = int(page) if page.isdigit() and 0 < int(page) < 100000 else 1
        return found

    def query_args(self, **changes) -> dict[str, str | int]:
        """The non-empty filters as query-string arguments (for links and the CSV download)."""
        values = {
            name: getattr(self, name)
            for name in ("state", "group", "section", "response", "category", "status", "q")
        }
        values["page"] = self.page
        values.update(changes)
        return {
            k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)
        }


@dataclass
class PublicRecommendation:
    """One row of the public database. ``position`` and ``status`` are None unless the review's
    consent is full (a summary consent publishes the recommendations only)."""

    id: int
    review_id: int
    state: str
    state_code: str
    regional_group: str
    cycle: str
    section_number: int
    section_code: str
    section_title: str
    text: str
    action_category: int
    level: ConsentLevel
    position: str | None
    status: str | None
    carried: bool


def _recommendations_query(filters: RecommendationFilters) -> Select:
    published = published_reviews().subquery()
    full = published.c.level == ConsentLevel.FULL.value
    query = (
        select(
            Recommendation.id,
            Recommendation.review_id,
            State.name,
            State.code,
            State.regional_group,
            Cycle.name,
            FrameworkSection.number,
            FrameworkSection.code,
            FrameworkSection.title,
            Recommendation.text,
            Recommendation.action_category,
            published.c.level,
            Response.position,
            Recommendation.latest_assessment_status,
            Recommendation.carried_from_id,
        )
        .join(published, published.c.review_id == Recommendation.review_id)
        .join(Review, Review.id == Recommendation.review_id)
        .join(State, State.id == Review.state_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .outerjoin(Response, Response.recommendation_id == Recommendation.id)
    )
    if filters.state:
        query = query.where(State.code == filters.state)
    if filters.group:
        query = query.where(State.regional_group == RegionalGroup(filters.group))
    if filters.section:
        query = query.where(FrameworkSection.code == filters.section)
    if filters.category:
        query = query.where(Recommendation.action_category == int(filters.category))
    if filters.response:
        query = query.where(full, Response.position == ResponsePosition(filters.response))
    if filters.status == NOT_ASSESSED:
        query = query.where(full, Recommendation.latest_assessment_status.is_(None))
    elif filters.status:
        query = query.where(full, Recommendation.latest_assessment_status == filters.status)
    for word in filters.q.split():
        query = query.where(Recommendation.text.ilike(_contains(word), escape="\\"))
    return query.order_by(
        Cycle.starts_on.desc(), State.name, FrameworkSection.number, Recommendation.id
    )


def _contains(word: str) -> str:
    """A LIKE pattern matching text that contains ``word`` literally (``%``, ``_`` escaped)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _value(member) -> str | None:
    """The stored text of an enum column's value (an enum member or its string), or None."""
    if member is None:
        return None
    return str(getattr(member, "value", member))


def _row(values) -> PublicRecommendation:
    (rid, review_id, state, code, group, cycle, number, scode, title, text, category, level,
     position, status, carried) = values  # fmt: skip
    full = level == ConsentLevel.FULL.value
    return PublicRecommendation(
        id=rid,
        review_id=review_id,
        state=state,
        state_code=code,
        regional_group=_value(group),
        cycle=cycle,
        section_number=number,
        section_code=scode,
        section_title=title,
        text=text,
        action_category=category,
        level=ConsentLevel(level),
        # a summary consent publishes the recommendations only
        position=_value(position) if full else None,
        status=_value(status) if full else None,
        carried=carried is not None,
    )


def search_recommendations(
    filters: RecommendationFilters, per_page: int = PER_PAGE
) -> tuple[list[PublicRecommendation], int]:
    """One page of published recommendations matching ``filters`` and the total count.

    Response and status filters match only reviews published in full (a summary consent does not
    publish responses). Two queries whatever the page.
    """
    query = _recommendations_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((filters.page - 1) * per_page)).all()
    return [_row(r) for r in rows], total


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run (`exports.neutralise`, OWASP "CSV injection");
    None becomes an empty cell."""
    return neutralise("" if value is None else str(value))


def recommendations_csv(filters: RecommendationFilters, labels: dict) -> Iterator[str]:
    """The published recommendations matching ``filters`` (every page) as CSV text chunks,
    UTF-8 with a header row; responses and statuses only for reviews published in full.

    ``labels``: ``{"position": {...}, "assessment": {...}}`` display labels.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("State"),
            _("ISO code"),
            _("Regional group"),
            _("Cycle"),
            _("Section"),
            _("Recommendation"),
            _("Action category"),
            _("Response"),
            _("Implementation status"),
            _("As recommended previously"),
            _("Published"),
        ]
    )
    yield buffer.getvalue()
    result = db.session.execute(_recommendations_query(filters).execution_options(yield_per=500))
    for values in result:
        row = _row(values)
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                safe_cell(c)
                for c in (
                    row.state,
                    row.state_code,
                    row.regional_group,
                    row.cycle,
                    f"{row.section_number}. {row.section_title}",
                    row.text,
                    row.action_category,
                    labels["position"].get(row.position, "") if row.position else "",
                    labels["assessment"].get(row.status, "") if row.status else "",
                    _("yes") if row.carried else "",
                    _("full report") if row.level == ConsentLevel.FULL else _("summary"),
                )
            ]
        )
        yield buffer.getvalue()


# --- good-practice library ---------------------------------------------------------------------


@dataclass
class GoodPracticeFilters:
    """``section``: framework section code; ``group``: UN regional group; ``q``: words."""

    section: str = ""
    group: str = ""
    q: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> GoodPracticeFilters:
        found = cls(q=(args.get("q") or "").strip()[:200])
        section = (args.get("section") or "").strip()
        if section and section not in set(db.session.scalars(select(FrameworkSection.code))):
            found.errors.append(_("Unknown section."))
            section = ""
        group = (args.get("group") or "").strip()
        if group and group not in {g.value for g in RegionalGroup}:
            found.errors.append(_("Unknown regional group."))
            group = ""
        found.section, found.group = section, group
        return found


def good_practices(filters: GoodPracticeFilters, limit: int = 200) -> list[tuple]:
    """Good practices of adopted reports published in full, across states and cycles:
    ``[(state, cycle, section, text, review_id)]`` newest cycle first, at most ``limit``.

    The source is the consolidated report's per-section good practices, written by the lead
    reviewer from the team's evaluations — never an individual reviewer's draft.
    """
    published = published_reviews().subquery()
    query = (
        select(State, Cycle, FrameworkSection, ReportSection.good_practices, Review.id)
        .join(Report, Report.id == ReportSection.report_id)
        .join(Review, Review.id == Report.review_id)
        .join(published, published.c.review_id == Review.id)
        .join(State, State.id == Review.state_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .join(FrameworkSection, FrameworkSection.id == ReportSection.section_id)
        .where(
            published.c.level == ConsentLevel.FULL.value,
            func.length(func.trim(ReportSection.good_practices)) > 0,
        )
    )
    if filters.section:
        query = query.where(FrameworkSection.code == filters.section)
    if filters.group:
        query = query.where(State.regional_group == RegionalGroup(filters.group))
    for word in filters.q.split():
        query = query.where(ReportSection.good_practices.ilike(_contains(word), escape="\\"))
    query = query.order_by(Cycle.starts_on.desc(), FrameworkSection.number, State.name).limit(limit)
    return [tuple(r) for r in db.session.execute(query).all()]


def section_choices() -> list[tuple[str, str]]:
    """``[(code, "number. title")]`` of the sections of every framework, one per code."""
    seen: dict[str, str] = {}
    for section in db.session.scalars(
        select(FrameworkSection).order_by(FrameworkSection.number, FrameworkSection.id.desc())
    ):
        seen.setdefault(section.code, f"{section.number}. {section.title}")
    return list(seen.items())


def state_choices() -> list[tuple[str, str]]:
    """``[(code, name)]`` of states with at least one published review, named and sorted
    alphabetically in the reader's language."""
    published = published_reviews().subquery()
    rows = [
        (code, state_name(code, name))
        for code, name in db.session.execute(
            select(State.code, State.name)
            .join(Review, Review.state_id == State.id)
            .join(published, published.c.review_id == Review.id)
            .distinct()
            .order_by(State.name)
        )
    ]
    return sorted_by_name(rows, lambda row: row[1])
