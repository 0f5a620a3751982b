"""Peer reviewers' evaluations: drafting an `Evaluation` and its proposed recommendations.

Functions here change data and only flush; the route commits (or `apply_transition` commits the
draft together with the ``submit_evaluation`` event). One `Evaluation` per assignment
(``Evaluation.assignment_id`` is unique): `get_or_create_evaluation` is safe against two requests
creating it at once. Who may call what is decided in ``app/access.py`` before these run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Assignment,
    Evaluation,
    EvaluationSection,
    FrameworkSection,
    ProposedRecommendation,
    Review,
)
from app.services import clock
from app.services.concurrency import fingerprint, get_or_create, locked_value
from app.services.transitions import ActedFirst
from workflows import AssignmentStatus


class EvaluationError(ValueError):
    """A request on an evaluation that cannot be honoured; the message is for the reviewer.

    ``field`` names the form field the message belongs beside (None: the page as a whole).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class SectionInput:
    """What a reviewer entered for one framework section (rating 0–4 or None while drafting)."""

    rating: int | None
    findings: str
    good_practices: str


def framework_sections(review: Review) -> list[FrameworkSection]:
    """The sections of the review's cycle framework, in order (empty if no framework is pinned)."""
    framework_id = review.cycle.framework_id
    if framework_id is None:
        return []
    return list(
        db.session.scalars(
            select(FrameworkSection)
            .where(FrameworkSection.framework_id == framework_id)
            .order_by(FrameworkSection.number)
        )
    )


def evaluation_of(assignment: Assignment) -> Evaluation | None:
    """The assignment's evaluation with its sections and proposals loaded, or None."""
    return db.session.scalar(
        select(Evaluation)
        .where(Evaluation.assignment_id == assignment.id)
        .options(
            selectinload(Evaluation.sections),
            selectinload(Evaluation.proposals).joinedload(ProposedRecommendation.section),
        )
    )


def get_or_create_evaluation(assignment: Assignment) -> Evaluation:
    """Return the assignment's evaluation, creating (and flushing) it if there is none.

    Call it before any other change in the request: when a concurrent request created the row
    first, the unique ``assignment_id`` raises IntegrityError, the session is rolled back and the
    winner's row is read again — so a double submission yields exactly one evaluation.
    """
    return get_or_create(
        lambda: evaluation_of(assignment),
        lambda: Evaluation(assignment_id=assignment.id, updated_at=clock.now()),
    )


def evaluation_for_editing(assignment: Assignment) -> Evaluation:
    """The evaluation to change in this request, created if needed, with the assignment locked.

    The assignment row is re-read under a row lock (PostgreSQL; SQLite serialises writers) so that
    a draft cannot be saved over an evaluation submitted meanwhile in another tab.
    Raises:
        ActedFirst: the assignment is no longer accepted, or the evaluation was submitted.
    """
    evaluation = get_or_create_evaluation(assignment)
    if (
        locked_value(Assignment.status, assignment.id) != AssignmentStatus.ACCEPTED
        or evaluation.submitted_at is not None
    ):
        raise ActedFirst()
    return evaluation


def evaluation_version(assignment: Assignment) -> str:
    """The `fingerprint` of the assignment's stored evaluation (str): the summary, every section's
    rating, findings and good practices, and the proposed recommendations.

    Read with column queries, so it reflects what is committed (and, after
    `evaluation_for_editing` took its lock, what no one else can change until this request ends).
    A missing evaluation or section counts as an empty one, so creating the empty rows changes no
    version.
    """
    stored = db.session.execute(
        select(Evaluation.id, Evaluation.summary).where(Evaluation.assignment_id == assignment.id)
    ).first()
    if stored is None:
        return fingerprint(["", [], []])
    evaluation_id, summary = stored
    rows = db.session.execute(
        select(
            EvaluationSection.section_id,
            EvaluationSection.rating,
            EvaluationSection.findings,
            EvaluationSection.good_practices,
        )
        .where(EvaluationSection.evaluation_id == evaluation_id)
        .order_by(EvaluationSection.section_id)
    ).all()
    proposals = db.session.execute(
        select(
            ProposedRecommendation.id,
            ProposedRecommendation.section_id,
            ProposedRecommendation.text,
            ProposedRecommendation.action_category,
        )
        .where(ProposedRecommendation.evaluation_id == evaluation_id)
        .order_by(ProposedRecommendation.id)
    ).all()
    return _version(summary, rows, proposals)


def loaded_evaluation_version(evaluation: Evaluation | None) -> str:
    """`evaluation_version` computed from an evaluation already loaded with its sections and
    proposals (`evaluation_of`), without querying again; the same string for the same data."""
    if evaluation is None:
        return fingerprint(["", [], []])
    rows = sorted(
        (
            (row.section_id, row.rating, row.findings, row.good_practices)
            for row in evaluation.sections
        ),
        key=lambda row: row[0],
    )
    proposals = sorted(
        (p.id, p.section_id, p.text, p.action_category) for p in evaluation.proposals
    )
    return _version(evaluation.summary, rows, proposals)


def _version(summary: str | None, rows, proposals) -> str:
    entered = [list(row) for row in rows if row[1] is not None or row[2] or row[3]]
    return fingerprint([summary or "", entered, [list(row) for row in proposals]])


def save_evaluation(
    evaluation: Evaluation, summary: str, sections: Mapping[int, SectionInput]
) -> None:
    """Store the overall summary and, per framework section id, rating, findings, good practices.

    Partial drafts are allowed: a rating may be None until submission (the ``submit_evaluation``
    guard requires every section rated, DESIGN §4). Section ids not in the framework are ignored by
    the caller's form, which only offers the framework's sections.
    """
    existing = {row.section_id: row for row in evaluation.sections}
    for section_id, entered in sections.items():
        row = existing.get(section_id)
        if row is None:
            row = EvaluationSection(evaluation=evaluation, section_id=section_id)
            db.session.add(row)
        row.rating = entered.rating
        row.findings = entered.findings.strip()
        row.good_practices = entered.good_practices.strip()
    evaluation.summary = summary.strip()
    evaluation.updated_at = clock.now()
    db.session.flush()


def save_evaluation_section(evaluation: Evaluation, section_id: int, entered: SectionInput) -> None:
    """Store one framework section's rating, findings and good practices (the per-section save of
    the evaluation page); the summary, the other sections and the proposals are left as stored.
    Flushes.
    """
    row = next((r for r in evaluation.sections if r.section_id == section_id), None)
    if row is None:
        row = EvaluationSection(evaluation=evaluation, section_id=section_id)
        db.session.add(row)
    row.rating = entered.rating
    row.findings = entered.findings.strip()
    row.good_practices = entered.good_practices.strip()
    evaluation.updated_at = clock.now()
    db.session.flush()


def add_proposal(
    evaluation: Evaluation, section_id: int, text: str, action_category: int
) -> ProposedRecommendation:
    """Add a proposed recommendation (action category: UPR Info scale 1–5) and flush.

    Call `evaluation_for_editing` first, so that two identical requests (a double click) cannot
    both pass the duplicate check.
    Raises:
        EvaluationError: empty text, a category outside 1–5, or the same section and text
            (whitespace aside) as a proposal already in the evaluation.
    """
    text = text.strip()
    if not text:
        raise EvaluationError(_("Write the text of the proposed recommendation."), "new_text")
    if action_category not in range(1, 6):
        raise EvaluationError(_("Choose an action category from 1 to 5."), "new_category")
    same_section = db.session.scalars(
        select(ProposedRecommendation.text).where(
            ProposedRecommendation.evaluation_id == evaluation.id,
            ProposedRecommendation.section_id == section_id,
        )
    )
    wanted = " ".join(text.split())
    if any(" ".join(existing.split()) == wanted for existing in same_section):
        raise EvaluationError(
            _("This proposed recommendation is already in your evaluation."), "new_text"
        )
    proposal = ProposedRecommendation(
        evaluation=evaluation, section_id=section_id, text=text, action_category=action_category
    )
    db.session.add(proposal)
    evaluation.updated_at = clock.now()
    db.session.flush()
    return proposal


def remove_proposal(evaluation: Evaluation, proposal_id: int) -> bool:
    """Delete one of the evaluation's own proposals (a draft's); return whether one was removed.

    A proposal already imported into the report (a `Recommendation` points at it) is kept, since
    the recommendation's origin must stay traceable.
    """
    from app.models import Recommendation

    proposal = next((p for p in evaluation.proposals if p.id == proposal_id), None)
    if proposal is None:
        return False
    imported = db.session.scalar(
        select(Recommendation.id).where(Recommendation.proposal_id == proposal.id)
    )
    if imported is not None:
        raise EvaluationError(
            _("This proposal is already in the draft report and cannot be removed.")
        )
    evaluation.proposals.remove(proposal)
    db.session.delete(proposal)
    evaluation.updated_at = clock.now()
    db.session.flush()
    return True


def contributions_by_section(
    evaluations: list[Evaluation],
) -> dict[int, list[tuple[Evaluation, EvaluationSection]]]:
    """Section id → each evaluation's entry for it, in the evaluations' order (no queries)."""
    result: dict[int, list[tuple[Evaluation, EvaluationSection]]] = {}
    for evaluation in evaluations:
        for row in evaluation.sections:
            result.setdefault(row.section_id, []).append((evaluation, row))
    return result


def agreed_ratings(evaluations: list[Evaluation], team: list[Assignment]) -> dict[int, int]:
    """Section id → the rating every member of the team gave it, for the sections where all
    agree (issue 16, item 5: the lead's consensus rating is pre-filled then). Empty until every
    member of ``team`` submitted (``evaluations``: the submitted ones). No queries."""
    if not evaluations or len(evaluations) < len(team):
        return {}
    agreed: dict[int, int] = {}
    for section_id, rows in contributions_by_section(evaluations).items():
        ratings = {row.rating for _evaluation, row in rows}
        if len(rows) == len(evaluations) and len(ratings) == 1 and None not in ratings:
            agreed[section_id] = ratings.pop()
    return agreed


def team_assignments(review: Review) -> list[Assignment]:
    """The review's accepted or submitted assignments (the team), reviewers loaded, lead first."""
    return list(
        db.session.scalars(
            select(Assignment)
            .where(
                Assignment.review_id == review.id,
                Assignment.status.in_([AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED]),
            )
            .order_by(Assignment.is_lead.desc(), Assignment.id)
            .options(joinedload(Assignment.reviewer))
        )
    )


def submitted_evaluations(review: Review) -> list[Evaluation]:
    """The review's evaluations whose assignment is submitted, with sections, proposals and
    reviewer loaded (a bounded number of queries). The lead consolidates these (DESIGN §5)."""
    return list(
        db.session.scalars(
            select(Evaluation)
            .join(Assignment, Evaluation.assignment_id == Assignment.id)
            .where(
                Assignment.review_id == review.id,
                Assignment.status == AssignmentStatus.SUBMITTED,
            )
            .order_by(Assignment.id)
            .options(
                joinedload(Evaluation.assignment).joinedload(Assignment.reviewer),
                selectinload(Evaluation.sections),
                selectinload(Evaluation.proposals),
            )
        ).unique()
    )
