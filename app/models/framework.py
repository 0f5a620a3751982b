"""The versioned questionnaire: Framework → FrameworkSection → Question (DESIGN §3, §7).

Frameworks are loaded from data files in ``app/data/frameworks/`` and never edited in place once a
cycle uses them; a change is a new version.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import translated
from app.models.base import Base, UTCDateTime, enum_column, utcnow
from workflows.base import N_


def _localised(field: str):
    """A text field read in the reader's language (`app.i18n.translated`: the data file's
    translation for that field, else English); the SQL expression and assignment use the
    English column ``<field>_en``."""

    def getter(self):
        return translated(self, field)

    def setter(self, value):
        setattr(self, f"{field}_en", value)

    def expression(cls):
        return getattr(cls, f"{field}_en")

    return hybrid_property(getter, setter, expr=expression)


class AnswerType(enum.StrEnum):
    CAPACITY_LEVEL = "capacity_level"  # 0–4: absent, initial, developing, established, advanced
    YES_NO_PARTIAL = "yes_no_partial"
    TEXT = "text"


#: The 0–4 capacity scale of the framework (DESIGN §7).
CAPACITY_LEVELS = {
    0: N_("Absent"),
    1: N_("Initial"),
    2: N_("Developing"),
    3: N_("Established"),
    4: N_("Advanced"),
}


class Framework(Base):
    __tablename__ = "framework"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    title_en: Mapped[str] = mapped_column("title", String(200))
    source: Mapped[str] = mapped_column(Text, default="")
    #: ``{locale: {field: text}}`` from the data file's translations (DESIGN §11).
    translations: Mapped[dict | None] = mapped_column(JSON, default=dict)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections: Mapped[list[FrameworkSection]] = relationship(
        back_populates="framework", order_by="FrameworkSection.number"
    )

    title = _localised("title")

    @property
    def label(self) -> str:
        return f"{self.title} v{self.version}"


class FrameworkSection(Base):
    __tablename__ = "framework_section"
    __table_args__ = (UniqueConstraint("framework_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(10))
    title_en: Mapped[str] = mapped_column("title", String(200))
    pillar: Mapped[int] = mapped_column(Integer, default=1)
    description_en: Mapped[str] = mapped_column("description", Text, default="")
    translations: Mapped[dict | None] = mapped_column(JSON, default=dict)
    brief_section: Mapped[str] = mapped_column(String(200), default="")

    framework: Mapped[Framework] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position"
    )

    title = _localised("title")
    description = _localised("description")


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("section_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    prompt_en: Mapped[str] = mapped_column("prompt", Text)
    guidance_en: Mapped[str] = mapped_column("guidance", Text, default="")
    answer_type: Mapped[AnswerType] = mapped_column(enum_column(AnswerType, "answer_type"))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    expected_evidence_en: Mapped[str] = mapped_column("expected_evidence", Text, default="")
    translations: Mapped[dict | None] = mapped_column(JSON, default=dict)
    brief_section: Mapped[str] = mapped_column(String(200), default="")
    prefill: Mapped[str | None] = mapped_column(String(40))

    section: Mapped[FrameworkSection] = relationship(back_populates="questions")

    prompt = _localised("prompt")
    guidance = _localised("guidance")
    expected_evidence = _localised("expected_evidence")
