"""The self-assessment: one Answer per question per review, plus per-section gaps (DESIGN §3)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.framework import FrameworkSection, Question
from app.models.review import Review


class Choice(enum.StrEnum):
    YES = "yes"
    PARTIAL = "partial"
    NO = "no"


#: Pillar-two assistance a state may seek for a section (DESIGN §3, the brief's three categories).
ASSISTANCE_KINDS = {
    "security_sector_reform": "Security-sector reform",
    "rule_of_law": "Rule-of-law assistance",
    "civil_society": "Aid to civil society",
    "other": "Other",
}


class Answer(Base):
    """A state's answer to one framework question. Which field is used depends on answer type."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("review_id", "question_id"),
        CheckConstraint("level IS NULL OR (level BETWEEN 0 AND 4)", name="level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    level: Mapped[int | None] = mapped_column(Integer)
    choice: Mapped[Choice | None] = mapped_column(enum_column(Choice, "choice"))
    narrative: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    prefilled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The review this answer was copied from ("carried over", issue 16), until the state edits it.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    question: Mapped[Question] = relationship()
    carried_from: Mapped[Review | None] = relationship(foreign_keys=[carried_from_id])

    def is_given(self, answer_type: str) -> bool:
        """True when the answer counts for the "all required answers given" guard."""
        return answer_given(answer_type, self.level, self.choice, self.narrative)


def answer_given(answer_type: str, level: int | None, choice: str | None, narrative: str) -> bool:
    """Whether an answer with these values counts as given for a question of ``answer_type``
    (guard "all required answers given"): a capacity level, a yes/partial/no choice, or for a
    text question a narrative with more than spaces."""
    if answer_type == "capacity_level":
        return level is not None
    if answer_type == "yes_no_partial":
        return choice is not None
    return bool((narrative or "").strip())


class SectionGaps(Base):
    """Per section of a self-assessment: identified capacity gaps and assistance sought."""

    __tablename__ = "section_gaps"
    __table_args__ = (UniqueConstraint("review_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    capacity_gaps: Mapped[str] = mapped_column(Text, default="")
    assistance_sought: Mapped[list] = mapped_column(JSON, default=list)
    assistance_details: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    section: Mapped[FrameworkSection] = relationship()
