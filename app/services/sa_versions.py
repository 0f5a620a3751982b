"""Versions of a state's self-assessment across submissions and cycles (issue 16, DESIGN §3).

Each ``submit_self_assessment`` freezes every answer of the review into a numbered
`SelfAssessmentVersion` (1, 2, ... per review) in the transition's own transaction
(`app.services.transitions.SIDE_EFFECTS`). `changes` compares a version with the one before it,
question by question, word by word (difflib), for the secretariat and the team after a return for
revision. `carry_section` starts a section of a new review from the answers the state gave in its
last review whose report was adopted (`app.services.carry_over.previous_review`); copies are
marked with ``Answer.carried_from_id`` until the state edits them (`save_section` clears it).
Functions flush, never commit.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ASSISTANCE_KINDS,
    CAPACITY_LEVELS,
    Answer,
    FrameworkSection,
    Question,
    Review,
    SectionGaps,
    SelfAssessmentVersion,
    User,
)
from app.services import clock
from app.services.self_assessment import SelfAssessmentError, _lock_for_editing

#: The answer fields compared between versions, in the order they are shown.
FIELDS = ("level", "choice", "narrative", "evidence")
GAPS_FIELDS = ("capacity_gaps", "assistance_sought", "assistance_details")
#: The fields compared word by word (the others are shown whole: old value, new value).
TEXT_FIELDS = frozenset({"narrative", "evidence", "capacity_gaps", "assistance_details"})


def snapshot(review: Review) -> dict[str, Any]:
    """Every answer and section gaps row of ``review`` as stored now, in the shape of
    `SelfAssessmentVersion.content` (2 queries)."""
    questions = {}
    rows = db.session.execute(
        select(Question.code, Answer)
        .join(Answer, Answer.question_id == Question.id)
        .where(Answer.review_id == review.id)
    ).all()
    for code, answer in rows:
        questions[code] = {
            "level": answer.level,
            "choice": answer.choice.value if answer.choice else None,
            "narrative": answer.narrative or "",
            "evidence": answer.evidence or "",
        }
    sections = {}
    for code, gaps in db.session.execute(
        select(FrameworkSection.code, SectionGaps)
        .join(SectionGaps, SectionGaps.section_id == FrameworkSection.id)
        .where(SectionGaps.review_id == review.id)
    ).all():
        sections[code] = {
            "capacity_gaps": gaps.capacity_gaps or "",
            "assistance_sought": list(gaps.assistance_sought or []),
            "assistance_details": gaps.assistance_details or "",
        }
    return {"questions": questions, "sections": sections}


def freeze(review: Review, actor: User, now: datetime) -> SelfAssessmentVersion:
    """Write the next numbered version of ``review``'s answers (``now``: aware UTC); flush.

    Called inside the ``submit_self_assessment`` transition, whose lock on the review row keeps
    two submissions from taking the same number."""
    last = db.session.scalar(
        select(func.max(SelfAssessmentVersion.number)).where(
            SelfAssessmentVersion.review_id == review.id
        )
    )
    version = SelfAssessmentVersion(
        review_id=review.id,
        number=(last or 0) + 1,
        content=snapshot(review),
        submitted_at=now,
        submitted_by_id=actor.id,
    )
    db.session.add(version)
    db.session.flush()
    return version


def versions_of(review: Review) -> list[SelfAssessmentVersion]:
    """The review's versions, oldest (number 1) first (1 query)."""
    return list(
        db.session.scalars(
            select(SelfAssessmentVersion)
            .where(SelfAssessmentVersion.review_id == review.id)
            .order_by(SelfAssessmentVersion.number)
        )
    )


def version_count(review: Review) -> int:
    """How many versions ``review`` has (its submissions so far; 1 query, no content read)."""
    return (
        db.session.scalar(
            select(func.count(SelfAssessmentVersion.id)).where(
                SelfAssessmentVersion.review_id == review.id
            )
        )
        or 0
    )


@dataclass
class FieldChange:
    """One changed field: its label and the word diff ``[(op, text)]``, op in equal / delete /
    insert (a deletion and an insertion for a replaced run)."""

    label: str
    parts: list[tuple[str, str]]


@dataclass
class Change:
    """A question (or a section's gaps when ``question`` is None) that differs between two
    versions."""

    section: FrameworkSection
    question: Question | None
    fields: list[FieldChange] = field(default_factory=list)


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """``after`` compared with ``before`` word by word: ``[(op, text)]`` with op in ``equal``,
    ``delete``, ``insert``; the spaces around a changed run are ``equal`` parts (a replaced run is
    its deletion, a space, its insertion)."""
    old = re.findall(r"\S+\s*", before or "")
    new = re.findall(r"\S+\s*", after or "")
    parts: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(("equal", "".join(old[i1:i2])))
            continue
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        if removed:
            parts.append(("delete", removed.rstrip()))
            parts.append(("equal", " " if added else removed[len(removed.rstrip()) :]))
        if added:
            parts.append(("insert", added.rstrip()))
            parts.append(("equal", added[len(added.rstrip()) :]))
    return [(op, text) for op, text in parts if text]


def _shown(name: str, value: Any) -> str:
    """A stored value as a reader sees it: levels and choices as their labels."""
    if value in (None, "", []):
        return ""
    if name == "level":
        return f"{value} — {_(CAPACITY_LEVELS[int(value)])}"
    if name == "choice":
        return {"yes": _("Yes"), "partial": _("Partial"), "no": _("No")}.get(value, str(value))
    if name == "assistance_sought":
        return ", ".join(_(ASSISTANCE_KINDS.get(kind, kind)) for kind in value)
    return str(value)


def _labels() -> dict[str, str]:
    return {
        "level": _("Capacity level"),
        "choice": _("Answer"),
        "narrative": _("Narrative"),
        "evidence": _("Evidence"),
        "capacity_gaps": _("Identified capacity gaps"),
        "assistance_sought": _("Assistance sought (pillar two)"),
        "assistance_details": _("Details of the assistance sought"),
    }


def _field_changes(names, before: dict, after: dict) -> list[FieldChange]:
    labels = _labels()
    changes = []
    for name in names:
        old, new = _shown(name, before.get(name)), _shown(name, after.get(name))
        if old == new:
            continue
        if name in TEXT_FIELDS:
            parts = word_diff(old, new)
        else:  # a level, a choice, kinds of assistance: the whole value, then the new one
            parts = [("delete", old), ("equal", " "), ("insert", new)] if old and new else []
            parts = parts or ([("delete", old)] if old else [("insert", new)])
        changes.append(FieldChange(labels[name], parts))
    return changes


def changes(
    review: Review, sections: list[FrameworkSection], number: int
) -> tuple[SelfAssessmentVersion, SelfAssessmentVersion | None, list[Change]] | None:
    """Version ``number`` of ``review``, the one before it (None for the first) and what changed
    from it, in framework order (``sections``, questions loaded), changed questions only; the
    first version compares with nothing (every answer shows as inserted). None when the review
    has no version ``number``."""
    versions = {v.number: v for v in versions_of(review)}
    current = versions.get(number)
    if current is None:
        return None
    previous = versions.get(number - 1)
    old = previous.content if previous else {"questions": {}, "sections": {}}
    new = current.content
    found = []
    for section in sections:
        for question in section.questions:
            fields = _field_changes(
                FIELDS,
                old["questions"].get(question.code, {}),
                new["questions"].get(question.code, {}),
            )
            if fields:
                found.append(Change(section, question, fields))
        fields = _field_changes(
            GAPS_FIELDS,
            old["sections"].get(section.code, {}),
            new["sections"].get(section.code, {}),
        )
        if fields:
            found.append(Change(section, None, fields))
    return current, previous, found


def carry_source(review: Review) -> Review | None:
    """The state's last review before ``review`` whose report was adopted, or None."""
    from app.services.carry_over import previous_review

    return previous_review(review)


def carry_section(review: Review, section: FrameworkSection, user: User) -> int:
    """Copy into ``section`` of ``review`` the state's answers of `carry_source` to the questions
    with the same code and answer type (level, choice, narrative, evidence; not the files);
    mark each copy carried over; flush; return how many answers were copied. Answers the
    source leaves empty are not copied; existing answers of the section are replaced.

    Raises:
        NotEditable: the review is no longer in self_assessment.
        SelfAssessmentError: no earlier adopted review, or the section is not of the review's
            framework.
    """
    if section.framework_id != review.cycle.framework_id:
        raise SelfAssessmentError(_("This section is not part of the review's framework."))
    _lock_for_editing(review)
    source = carry_source(review)
    if source is None:
        raise SelfAssessmentError(_("Your state has no earlier review with an adopted report."))
    by_code = {q.code: q for q in section.questions}
    earlier = db.session.execute(
        select(Question.code, Question.answer_type, Answer)
        .join(Answer, Answer.question_id == Question.id)
        .where(Answer.review_id == source.id, Question.code.in_(list(by_code)))
    ).all()
    existing = {
        a.question_id: a
        for a in db.session.scalars(
            select(Answer).where(
                Answer.review_id == review.id,
                Answer.question_id.in_([q.id for q in section.questions]),
            )
        )
    }
    now = clock.now()
    copied = 0
    for code, answer_type, old in earlier:
        question = by_code[code]
        if answer_type != question.answer_type or not old.is_given(answer_type):
            continue
        answer = existing.get(question.id)
        if answer is None:
            answer = Answer(review_id=review.id, question_id=question.id)
            db.session.add(answer)
        answer.level, answer.choice = old.level, old.choice
        answer.narrative, answer.evidence = old.narrative or "", old.evidence or ""
        answer.prefilled = False
        answer.carried_from_id = source.id
        answer.updated_at = now
        answer.updated_by_id = user.id
        copied += 1
    db.session.flush()
    return copied
