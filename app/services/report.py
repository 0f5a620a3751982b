"""The consolidated peer-review report: drafting by the lead, factual comments by the state.

Functions here change data and only flush; the route commits. One `Report` per review
(``Report.review_id`` is unique): `get_or_create_report` is safe against concurrent creation.
The state's factual-accuracy comments are separate `FactualComment` rows shown beside the findings
and never merged into them (DESIGN §3, after the APRM practice of appending the state's comments).
Who may call what is decided in ``app/access.py`` before these run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.formatting import format_date
from app.models import (
    Addressee,
    Assignment,
    Evaluation,
    FactualComment,
    FrameworkSection,
    Priority,
    ProposedRecommendation,
    Recommendation,
    Report,
    ReportSection,
    Review,
    User,
)
from app.services import clock
from app.services.concurrency import fingerprint, get_or_create, locked_value, repeats_latest
from app.services.transitions import ActedFirst
from workflows import AssignmentStatus, ReviewStatus


class ReportError(ValueError):
    """A request on a report that cannot be honoured; the message is for the person who asked.

    ``field`` names the recommendation form field the message belongs beside.
    """

    def __init__(self, message: str, field: str = "text") -> None:
        super().__init__(message)
        self.field = field


class CommentAlreadyRecorded(ReportError):
    """The same factual comment by the same author is already the latest (a double click)."""


@dataclass
class ReportSectionInput:
    """What the lead entered for one section: consensus rating 0–4 (None while drafting)."""

    consensus_rating: int | None
    findings: str
    good_practices: str


@dataclass
class RecommendationInput:
    """A recommendation as entered: action category on the UPR Info scale 1–5."""

    section_id: int
    text: str
    priority: Priority
    action_category: int
    addressee: Addressee
    target_date: date | None


def report_of(review: Review) -> Report | None:
    """The review's report with sections and comments (and their authors) loaded, or None."""
    return db.session.scalar(
        select(Report)
        .where(Report.review_id == review.id)
        .options(
            selectinload(Report.sections),
            selectinload(Report.comments).joinedload(FactualComment.author),
        )
    )


def get_or_create_report(review: Review) -> Report:
    """Return the review's report, creating (and flushing) it on first save.

    Call it before any other change in the request: if a concurrent request created the row
    first, the unique ``review_id`` raises IntegrityError, the session is rolled back and the
    existing row is read again.
    """
    return get_or_create(
        lambda: report_of(review), lambda: Report(review_id=review.id, updated_at=clock.now())
    )


def report_version(review: Review) -> str:
    """The `fingerprint` of the stored draft: executive summary and every section's consensus
    rating, findings and good practices (str).

    Read with column queries, so it reflects what is committed (and, after `report_for_editing`
    took its lock, what no one else can change until this request ends). A missing report and a
    missing section count as empty ones, so creating the empty rows changes no version.
    """
    # one query: the report's summary beside each of its sections (None columns: no section)
    joined = db.session.execute(
        select(
            Report.executive_summary,
            ReportSection.section_id,
            ReportSection.consensus_rating,
            ReportSection.findings,
            ReportSection.good_practices,
        )
        .outerjoin(ReportSection, ReportSection.report_id == Report.id)
        .where(Report.review_id == review.id)
        .order_by(ReportSection.section_id)
    ).all()
    summary = joined[0][0] if joined else None
    rows = [tuple(row[1:]) for row in joined if row[1] is not None]
    entered = [list(row) for row in rows if row[1] is not None or row[2] or row[3]]
    return fingerprint([summary or "", entered])


def report_for_editing(review: Review) -> Report:
    """The report to change in this request, created if needed, with the review row locked.

    The review is re-read under a row lock (PostgreSQL; SQLite serialises writers), so that
    nothing is saved over a draft submitted meanwhile in another tab, and two saves of the same
    draft (two tabs, a double click) run one after the other: the second one sees the first one's
    rows when it checks `report_version` and duplicates.
    Raises:
        ActedFirst: the review is no longer in evaluation (the draft was submitted, or withdrawn).
    """
    report = get_or_create_report(review)
    if locked_value(Review.status, review.id) != ReviewStatus.EVALUATION:
        raise ActedFirst()
    return report


def save_report(
    report: Report, executive_summary: str, sections: Mapping[int, ReportSectionInput]
) -> None:
    """Store the executive summary and, per framework section id, the consensus rating (0–4 or
    None while drafting), findings and good practices; flush.

    The ``submit_draft_report`` guard later requires every section rated (DESIGN §4).
    """
    existing = {row.section_id: row for row in report.sections}
    for section_id, entered in sections.items():
        row = existing.get(section_id)
        if row is None:
            row = ReportSection(report=report, section_id=section_id)
            db.session.add(row)
        row.consensus_rating = entered.consensus_rating
        row.findings = entered.findings.strip()
        row.good_practices = entered.good_practices.strip()
    report.executive_summary = executive_summary.strip()
    report.updated_at = clock.now()
    db.session.flush()


def recommendations_of(review: Review) -> list[Recommendation]:
    """The review's recommendations ordered by section then creation, with their sections and
    carried-over originals (review, cycle) loaded: a fixed number of queries."""
    return list(
        db.session.scalars(
            select(Recommendation)
            .join(FrameworkSection, Recommendation.section_id == FrameworkSection.id)
            .where(Recommendation.review_id == review.id)
            .order_by(FrameworkSection.number, Recommendation.id)
            .options(
                joinedload(Recommendation.section),
                # "as recommended previously (cycle)": the original, its review and cycle
                selectinload(Recommendation.carried_from)
                .joinedload(Recommendation.review)
                .joinedload(Review.cycle),
            )
        )
    )


def normalised(text: str) -> str:
    """``text`` with runs of whitespace made one space and the ends trimmed (for comparing)."""
    return " ".join(text.split())


def _is_duplicate(review: Review, entered: RecommendationInput, exclude_id: int | None) -> bool:
    """Whether another recommendation of the review has the same section and (normalised) text.

    A column query, so that a row committed by a concurrent request is seen after the lock.
    """
    rows = db.session.execute(
        select(Recommendation.id, Recommendation.text).where(
            Recommendation.review_id == review.id,
            Recommendation.section_id == entered.section_id,
        )
    ).all()
    text = normalised(entered.text)
    return any(row.id != exclude_id and normalised(row.text) == text for row in rows)


def _check(
    review: Review,
    entered: RecommendationInput,
    section_ids: set[int],
    exclude_id: int | None = None,
) -> None:
    if not entered.text.strip():
        raise ReportError(_("Write the text of the recommendation."))
    if entered.section_id not in section_ids:
        raise ReportError(_("Choose a section of the framework."), field="section_id")
    if entered.action_category not in range(1, 6):
        raise ReportError(_("Choose an action category from 1 to 5."), field="action_category")
    starts_on = review.cycle.starts_on
    if entered.target_date is not None and entered.target_date < starts_on:
        raise ReportError(
            _(
                "The target date cannot be before the start of the cycle (%(date)s).",
                date=format_date(starts_on),
            ),
            field="target_date",
        )
    if _is_duplicate(review, entered, exclude_id):
        # a double click, or the same text added twice: the state would have to answer it twice
        raise ReportError(_("This recommendation is already in the report."))


def add_recommendation(
    review: Review, entered: RecommendationInput, section_ids: set[int]
) -> Recommendation:
    """Add a recommendation to the review's draft report and flush.

    Call `report_for_editing` first, so that two identical requests cannot both pass the
    duplicate check.
    Raises:
        ReportError: empty text, a section outside the framework, a category outside 1–5, a
            target date before the cycle's start, or the same section and text (whitespace
            aside) as a recommendation already in the report.
    """
    _check(review, entered, section_ids)
    recommendation = Recommendation(review_id=review.id, proposal_id=None)
    _apply(recommendation, entered)
    db.session.add(recommendation)
    db.session.flush()
    return recommendation


def update_recommendation(
    review: Review,
    recommendation: Recommendation,
    entered: RecommendationInput,
    section_ids: set[int],
) -> None:
    """Change a draft recommendation of ``review`` and flush.

    Raises `ReportError` as `add_recommendation` (the duplicate check leaves out the
    recommendation itself).
    """
    _check(review, entered, section_ids, exclude_id=recommendation.id)
    _apply(recommendation, entered)
    db.session.flush()


def recommendation_version(recommendation: Recommendation) -> str:
    """The `fingerprint` of one recommendation's stored fields (for its edit page)."""
    return fingerprint(
        [
            recommendation.section_id,
            recommendation.text,
            str(recommendation.priority),
            recommendation.action_category,
            str(recommendation.addressee),
            recommendation.target_date,
        ]
    )


def _apply(recommendation: Recommendation, entered: RecommendationInput) -> None:
    recommendation.section_id = entered.section_id
    recommendation.text = entered.text.strip()
    recommendation.priority = entered.priority
    recommendation.action_category = entered.action_category
    recommendation.addressee = entered.addressee
    recommendation.target_date = entered.target_date


def delete_recommendation(recommendation: Recommendation) -> None:
    """Delete a draft recommendation (only while drafting: it has no response yet) and flush.

    Raises:
        ReportError: the recommendation already has a response or follow-up.
    """
    if (
        recommendation.response is not None
        or recommendation.progress_updates
        or recommendation.assessments
    ):
        raise ReportError(_("This recommendation has been answered and cannot be deleted."))
    db.session.delete(recommendation)
    db.session.flush()


def importable_proposals(review: Review) -> list[ProposedRecommendation]:
    """Proposed recommendations of the review's SUBMITTED evaluations not yet imported."""
    imported = select(Recommendation.proposal_id).where(
        Recommendation.review_id == review.id, Recommendation.proposal_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(ProposedRecommendation)
            .join(Evaluation, ProposedRecommendation.evaluation_id == Evaluation.id)
            .join(Assignment, Evaluation.assignment_id == Assignment.id)
            .where(
                Assignment.review_id == review.id,
                Assignment.status == AssignmentStatus.SUBMITTED,
                ProposedRecommendation.id.not_in(imported),
            )
            .order_by(ProposedRecommendation.id)
        )
    )


def import_proposals(review: Review) -> int:
    """Create a `Recommendation` (priority medium, addressed to the state, ``proposal_id`` set)
    from each proposal of a submitted evaluation not imported yet; return how many were created.

    Idempotent: importing twice adds nothing. The report row is touched first so that two
    concurrent imports are serialised (row lock on PostgreSQL, write lock on SQLite) and the
    second one sees the first one's rows.
    """
    report = get_or_create_report(review)
    report.updated_at = clock.now()
    db.session.flush()
    created = 0
    for proposal in importable_proposals(review):
        db.session.add(
            Recommendation(
                review_id=review.id,
                section_id=proposal.section_id,
                text=proposal.text,
                priority=Priority.MEDIUM,
                action_category=proposal.action_category,
                addressee=Addressee.STATE,
                proposal_id=proposal.id,
            )
        )
        created += 1
    db.session.flush()
    return created


def add_factual_comment(
    report: Report, author: User, body: str, section_id: int | None, section_ids: set[int]
) -> FactualComment:
    """Append one factual-accuracy comment of the state (general when ``section_id`` is None).

    Comments are kept as separate rows beside the findings; the findings are never changed.
    Raises:
        ReportError: empty text, or a section outside the framework.
        CommentAlreadyRecorded: the report's latest comment has the same author, section and text
            (a double click, or the form posted again after "back"); nothing is added.
    """
    body = body.strip()
    if not body:
        raise ReportError(_("Write the comment."))
    if section_id is not None and section_id not in section_ids:
        raise ReportError(_("Choose a section of the framework."))
    locked_value(Report.id, report.id)
    same = {"author_id": author.id, "section_id": section_id, "body": body}
    if repeats_latest(FactualComment, FactualComment.report_id, report.id, same):
        raise CommentAlreadyRecorded(_("This comment is already recorded."))
    comment = FactualComment(
        report_id=report.id,
        section_id=section_id,
        author_id=author.id,
        body=body,
        created_at=clock.now(),
    )
    db.session.add(comment)
    db.session.flush()
    return comment
