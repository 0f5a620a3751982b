"""The self-assessment: a state's answers to its cycle's framework, section by section (DESIGN §3).

The review's cycle pins the framework version (``review.cycle.framework``). One `Answer` per
question per review (capacity level 0–4, yes / partial / no, or text, plus narrative and evidence)
and one `SectionGaps` per section (identified capacity gaps, pillar-two assistance sought). Drafts
save partially: nothing here requires every answer; the "all required answers given" guard of
``submit_self_assessment`` (workflows/review.py) checks completeness on submission. Functions here
flush, never commit.

Concurrency: a section page carries the `fingerprint` of each part it was rendered from (every
question's answer, and the section's gaps) and of the whole (`section_versions`, `version_of`).
`save_section` locks the review row, refuses with `NotEditable` once the review has left the
self-assessment phase (submitted from another tab, withdrawn) and with `SectionChanged` when the
section was saved by someone else since the page was loaded (DESIGN §4; Redash's version check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import current_language
from app.models import (
    ASSISTANCE_KINDS,
    CAPACITY_LEVELS,
    Answer,
    AnswerType,
    Choice,
    Framework,
    FrameworkSection,
    Question,
    Review,
    SectionGaps,
    User,
)
from app.services import clock, reference
from app.services.concurrency import fingerprint, is_stale, locked_value
from app.services.reference import FRAMEWORK_DIR
from workflows import ReviewStatus

#: The part key of a section's capacity gaps and assistance sought (the others are question codes).
GAPS_PART = "gaps"


class SelfAssessmentError(ValueError):
    """Data that cannot be stored as an answer; the message is for the person who typed it."""


class NotEditable(SelfAssessmentError):
    """The review is no longer in self-assessment (submitted, returned elsewhere, withdrawn)."""

    def __init__(self) -> None:
        super().__init__(_("This self-assessment can no longer be changed."))


class SectionChanged(SelfAssessmentError):
    """The section was saved by someone else after the page being saved was loaded.

    ``versions`` holds the current fingerprint of each part (see `section_versions`).
    """

    def __init__(self, versions: dict[str, str]) -> None:
        super().__init__(_("Someone saved this section after you opened it."))
        self.versions = versions


@dataclass
class SectionProgress:
    """Completion of one framework section of one review's self-assessment."""

    section: FrameworkSection
    required_total: int = 0
    required_answered: int = 0
    total: int = 0
    answered: int = 0
    missing_codes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every required question of the section is answered."""
        return self.required_answered == self.required_total


def sections_of(review: Review) -> list[FrameworkSection]:
    """The framework sections of ``review``'s cycle, in order, questions loaded (2 queries)."""
    framework_id = review.cycle.framework_id
    if framework_id is None:
        return []
    return list(
        db.session.scalars(
            select(FrameworkSection)
            .where(FrameworkSection.framework_id == framework_id)
            .options(selectinload(FrameworkSection.questions))
            .order_by(FrameworkSection.number)
        )
    )


def section_by_number(review: Review, number: int) -> FrameworkSection | None:
    """Section ``number`` of the review's framework (questions loaded), or None."""
    framework_id = review.cycle.framework_id
    if framework_id is None:
        return None
    return db.session.scalar(
        select(FrameworkSection)
        .where(FrameworkSection.framework_id == framework_id, FrameworkSection.number == number)
        .options(selectinload(FrameworkSection.questions))
    )


def section_progress(
    review: Review, sections: list[FrameworkSection] | None = None
) -> list[SectionProgress]:
    """Per framework section, in order: required answered / required total, answered / total.

    Two queries whatever the number of sections or questions (one when ``sections``, the
    review's framework sections in order as `sections_of` returns, are given). An answer counts
    when `Answer.is_given` says so for its question's answer type (the same rule as the
    ``submit_self_assessment`` guard).
    """
    framework_id = review.cycle.framework_id
    if framework_id is None:
        return []
    if sections is None:
        sections = db.session.scalars(
            select(FrameworkSection)
            .where(FrameworkSection.framework_id == framework_id)
            .order_by(FrameworkSection.number)
        ).all()
    progress = {s.id: SectionProgress(section=s) for s in sections}
    rows = db.session.execute(
        select(Question.section_id, Question.code, Question.required, Question.answer_type, Answer)
        .join(FrameworkSection, Question.section_id == FrameworkSection.id)
        .outerjoin(Answer, (Answer.question_id == Question.id) & (Answer.review_id == review.id))
        .where(FrameworkSection.framework_id == framework_id)
        .order_by(FrameworkSection.number, Question.position)
    ).all()
    for section_id, code, required, answer_type, answer in rows:
        entry = progress[section_id]
        given = answer is not None and answer.is_given(answer_type)
        entry.total += 1
        entry.answered += int(given)
        if required:
            entry.required_total += 1
            if given:
                entry.required_answered += 1
            else:
                entry.missing_codes.append(code)
    return [progress[s.id] for s in sections]


def answers_of(
    review: Review, section: FrameworkSection | None = None, *, fresh: bool = False
) -> dict[int, Answer]:
    """The review's answers keyed by question id; only ``section``'s when given (1 query).

    ``fresh`` re-reads rows already in the session (what is stored now, not what was loaded).
    """
    query = select(Answer).where(Answer.review_id == review.id)
    if section is not None:
        query = query.join(Question, Answer.question_id == Question.id).where(
            Question.section_id == section.id
        )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return {a.question_id: a for a in db.session.scalars(query)}


def section_versions(
    section: FrameworkSection, answers: dict[int, Answer], gaps: SectionGaps | None
) -> dict[str, str]:
    """The `fingerprint` of each part of ``section`` as stored: ``{question code: ...}`` over the
    answer's level, choice, narrative and evidence, and ``{GAPS_PART: ...}`` over the gaps row.

    ``answers`` is keyed by question id (as `answers_of` returns); no query.
    """
    versions = {}
    for question in section.questions:
        answer = answers.get(question.id)
        values = None
        if answer is not None:
            choice = answer.choice.value if answer.choice else None
            values = [answer.level, choice, answer.narrative, answer.evidence]
        versions[question.code] = fingerprint([values])
    gaps_values = None
    if gaps is not None:
        gaps_values = [
            gaps.capacity_gaps,
            list(gaps.assistance_sought or []),
            gaps.assistance_details,
        ]
    versions[GAPS_PART] = fingerprint([gaps_values])
    return versions


def version_of(versions: dict[str, str]) -> str:
    """The version of a whole page from the fingerprints of its parts (the ``base_version``)."""
    return fingerprint(sorted(versions.items()))


def unsaved_parts(review: Review, section: FrameworkSection, data: dict[str, Any]) -> list[str]:
    """The parts of ``section`` (question codes, `GAPS_PART`) whose values in ``data`` (the shape
    `save_section` takes) differ from what is stored: what a save would change. Nothing is
    changed.

    Raises:
        SelfAssessmentError: a value outside the scales (as `save_section`).
    """
    _answers, _gaps, answer_changes, gaps_change = _plan(review, section, data)
    changed = [code for code, _values in answer_changes]
    return changed + ([GAPS_PART] if gaps_change is not None else [])


def gaps_of(review: Review) -> dict[int, SectionGaps]:
    """The review's capacity gaps and assistance sought, keyed by section id (1 query)."""
    return {
        g.section_id: g
        for g in db.session.scalars(select(SectionGaps).where(SectionGaps.review_id == review.id))
    }


def save_section(
    review: Review,
    section: FrameworkSection,
    data: dict[str, Any],
    user: User,
    *,
    base_version: str | None = None,
) -> int:
    """Store a (possibly partial) draft of one section; flush; return the answers changed.

    ``data``: ``{"answers": {question_code: {"level": int | None, "choice": str | None,
    "narrative": str, "evidence": str}}, "capacity_gaps": str, "assistance_sought": [kind, ...],
    "assistance_details": str}``. Questions missing from ``data["answers"]`` are left as they are.
    A changed answer gets ``updated_by_id``/``updated_at`` and loses its ``prefilled`` and
    carried-over (``carried_from_id``) marks (it is now the state's own answer, not the UN Treaty
    Collection pre-fill nor a copy of an earlier review's).

    ``base_version`` is the `version_of` the section the person's page was rendered from; when
    the section was saved since and this save would change anything, nothing is stored. A save
    that changes nothing (a double click) is never refused.

    The review row is locked first (PostgreSQL; SQLite serialises writers) so that a save and a
    submission, or two saves, do not interleave.

    Raises:
        NotEditable: the review is no longer in self_assessment (answers change only then, §4).
        SectionChanged: the section changed since ``base_version``; nothing was stored.
        SelfAssessmentError: the section is not of the review's framework, a level outside 0–4
            (DESIGN §7), a choice other than yes / partial / no, or an unknown assistance kind.
    """
    if section.framework_id != review.cycle.framework_id:
        raise SelfAssessmentError(_("This section is not part of the review's framework."))
    _lock_for_editing(review)
    existing, gaps, answer_changes, gaps_change = _plan(review, section, data)
    if base_version and (answer_changes or gaps_change is not None):
        versions = section_versions(section, existing, gaps)
        if is_stale(base_version, version_of(versions)):
            raise SectionChanged(versions)
    now = clock.now()
    by_code = {q.code: q for q in section.questions}
    for code, values in answer_changes:
        question = by_code[code]
        answer = existing.get(question.id)
        if answer is None:
            answer = Answer(
                review_id=review.id,
                question_id=question.id,
                narrative="",
                evidence="",
                prefilled=False,
            )
            db.session.add(answer)
        for name, value in values.items():
            setattr(answer, name, value)
        answer.prefilled = False
        answer.carried_from_id = None
        answer.updated_at = now
        answer.updated_by_id = user.id
    if gaps_change is not None:
        if gaps is None:
            gaps = SectionGaps(review_id=review.id, section_id=section.id)
            db.session.add(gaps)
        gaps.capacity_gaps, gaps.assistance_sought, gaps.assistance_details = gaps_change
        gaps.updated_at = now
    db.session.flush()
    return len(answer_changes)


def _lock_for_editing(review: Review) -> None:
    """Lock the review row and re-read its status; refuse once it left self_assessment."""
    if locked_value(Review.status, review.id) != ReviewStatus.SELF_ASSESSMENT:
        raise NotEditable()


def _plan(
    review: Review, section: FrameworkSection, data: dict[str, Any]
) -> tuple[dict[int, Answer], SectionGaps | None, list[tuple[str, dict[str, Any]]], tuple | None]:
    """What saving ``data`` would change, read fresh from the database: the stored answers (by
    question id) and gaps row, ``[(code, cleaned values)]`` of the answers that differ, and the
    new gaps ``(capacity_gaps, assistance_sought, assistance_details)`` or None when unchanged."""
    existing = answers_of(review, section, fresh=True)
    gaps = _gaps_row(review, section)
    posted = data.get("answers", {})
    changes = []
    for question in section.questions:
        if question.code not in posted:
            continue
        values = _clean_answer(question, posted[question.code])
        answer = existing.get(question.id)
        if answer is None:
            if not any(v not in (None, "") for v in values.values()):
                continue
        elif all(getattr(answer, name) == value for name, value in values.items()):
            continue
        changes.append((question.code, values))
    return existing, gaps, changes, _gaps_change(gaps, data)


def _clean_answer(question: Question, raw: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "narrative": str(raw.get("narrative") or "").strip(),
        "evidence": str(raw.get("evidence") or "").strip(),
    }
    if question.answer_type == AnswerType.CAPACITY_LEVEL:
        level = raw.get("level")
        if level in ("", None):
            level = None
        else:
            try:
                level = int(level)
            except (TypeError, ValueError):
                level = -1
            if level not in CAPACITY_LEVELS:
                raise SelfAssessmentError(
                    _("%(code)s: the capacity level must be 0 to 4.", code=question.code)
                )
        values["level"] = level
    elif question.answer_type == AnswerType.YES_NO_PARTIAL:
        choice = raw.get("choice") or None
        if choice is not None and choice not in {c.value for c in Choice}:
            raise SelfAssessmentError(_("%(code)s: answer yes, partial or no.", code=question.code))
        values["choice"] = Choice(choice) if choice else None
    return values


def _gaps_row(review: Review, section: FrameworkSection) -> SectionGaps | None:
    return db.session.scalar(
        select(SectionGaps)
        .where(SectionGaps.review_id == review.id, SectionGaps.section_id == section.id)
        .execution_options(populate_existing=True)
    )


def _gaps_change(gaps: SectionGaps | None, data: dict[str, Any]) -> tuple | None:
    """The gaps values to store, or None when ``data`` has none or they equal the stored ones."""
    keys = ("capacity_gaps", "assistance_sought", "assistance_details")
    if not any(key in data for key in keys):
        return None
    kinds = [k for k in ASSISTANCE_KINDS if k in set(data.get("assistance_sought") or [])]
    unknown = set(data.get("assistance_sought") or []) - set(ASSISTANCE_KINDS)
    if unknown:
        raise SelfAssessmentError(
            _("Unknown kind of assistance: %(kinds)s", kinds=", ".join(sorted(unknown)))
        )
    values = (
        str(data.get("capacity_gaps") or "").strip(),
        kinds,
        str(data.get("assistance_details") or "").strip(),
    )
    if gaps is None:
        return values if any(values) else None
    stored = (gaps.capacity_gaps, list(gaps.assistance_sought or []), gaps.assistance_details)
    return None if stored == values else values


@lru_cache(maxsize=32)
def _levels_in_file(code: str, version: int, language: str) -> dict[int, str]:
    for path in reference.framework_files(FRAMEWORK_DIR):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("code") == code and int(data.get("version", 0)) == version:
            return reference.capacity_level_descriptions(path, language)
    return {}


def level_descriptions(framework: Framework | None) -> dict[int, str]:
    """What each capacity level 0–4 means in ``framework``, from its data file (DESIGN §7), in the
    reader's language (its translation file; English per level where missing).

    Empty when the framework's file is not found (the labels alone are then shown).
    """
    if framework is None:
        return {}
    return _levels_in_file(framework.code, framework.version, current_language())
