"""The consolidated peer-review report of a review and the state's factual comments (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.framework import FrameworkSection
from app.models.user import User


class Report(Base):
    """Drafted by the lead reviewer; adopted by the secretariat. One per review."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), unique=True)
    executive_summary: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sections: Mapped[list[ReportSection]] = relationship(back_populates="report")
    comments: Mapped[list[FactualComment]] = relationship(
        back_populates="report", order_by="FactualComment.created_at"
    )


class ReportSection(Base):
    """Per section of the report: consensus rating (0–4), findings and good practices."""

    __tablename__ = "report_section"
    __table_args__ = (
        UniqueConstraint("report_id", "section_id"),
        CheckConstraint(
            "consensus_rating IS NULL OR (consensus_rating BETWEEN 0 AND 4)", name="rating_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    consensus_rating: Mapped[int | None] = mapped_column()
    findings: Mapped[str] = mapped_column(Text, default="")
    good_practices: Mapped[str] = mapped_column(Text, default="")

    report: Mapped[Report] = relationship(back_populates="sections")
    section: Mapped[FrameworkSection] = relationship()


class FactualComment(Base):
    """A state's factual-accuracy comment on the draft: appended beside findings, never merged."""

    __tablename__ = "factual_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("framework_section.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="comments")
    section: Mapped[FrameworkSection | None] = relationship()
    author: Mapped[User] = relationship()
