"""The versioned questionnaire: Framework → FrameworkSection → Question (DESIGN §3, §7).

Frameworks are loaded from data files in ``app/data/frameworks/`` and never edited in place once a
cycle uses them; a change is a new version.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow


class AnswerType(enum.StrEnum):
    CAPACITY_LEVEL = "capacity_level"  # 0–4: absent, initial, developing, established, advanced
    YES_NO_PARTIAL = "yes_no_partial"
    TEXT = "text"


#: The 0–4 capacity scale of the framework (DESIGN §7).
CAPACITY_LEVELS = {0: "Absent", 1: "Initial", 2: "Developing", 3: "Established", 4: "Advanced"}


class Framework(Base):
    __tablename__ = "framework"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections: Mapped[list[FrameworkSection]] = relationship(
        back_populates="framework", order_by="FrameworkSection.number"
    )

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
    title: Mapped[str] = mapped_column(String(200))
    pillar: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    brief_section: Mapped[str] = mapped_column(String(200), default="")

    framework: Mapped[Framework] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position"
    )


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (UniqueConstraint("section_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    guidance: Mapped[str] = mapped_column(Text, default="")
    answer_type: Mapped[AnswerType] = mapped_column(enum_column(AnswerType, "answer_type"))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    expected_evidence: Mapped[str] = mapped_column(Text, default="")
    brief_section: Mapped[str] = mapped_column(String(200), default="")
    prefill: Mapped[str | None] = mapped_column(String(40))

    section: Mapped[FrameworkSection] = relationship(back_populates="questions")
