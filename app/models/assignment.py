"""Assignments of peer reviewers to reviews, and their evaluations (DESIGN §3, §4, §5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.framework import FrameworkSection
from app.models.review import Review
from app.models.user import User
from workflows import AssignmentStatus


class Assignment(Base):
    """A reviewer on a review. Never deleted: its history is kept forever."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("review_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, "assignment_status"), default=AssignmentStatus.INVITED
    )
    no_conflict_declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conflict_details: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    review: Mapped[Review] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="assignment")

    __mapper_args__ = {"version_id_col": version_id}


class Evaluation(Base):
    """One reviewer's evaluation of a self-assessment (one per assignment)."""

    __tablename__ = "evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="evaluation")
    sections: Mapped[list[EvaluationSection]] = relationship(back_populates="evaluation")
    proposals: Mapped[list[ProposedRecommendation]] = relationship(
        back_populates="evaluation", order_by="ProposedRecommendation.id"
    )


class EvaluationSection(Base):
    """A reviewer's rating (capacity level 0–4), findings and good practices for one section."""

    __tablename__ = "evaluation_section"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "section_id"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 0 AND 4)", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text, default="")
    good_practices: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="sections")
    section: Mapped[FrameworkSection] = relationship()


class ProposedRecommendation(Base):
    """A recommendation a reviewer proposes in their evaluation; the lead consolidates them."""

    __tablename__ = "proposed_recommendation"
    __table_args__ = (
        CheckConstraint("action_category BETWEEN 1 AND 5", name="action_category_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    text: Mapped[str] = mapped_column(Text)
    action_category: Mapped[int] = mapped_column(Integer, default=4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    evaluation: Mapped[Evaluation] = relationship(back_populates="proposals")
    section: Mapped[FrameworkSection] = relationship()
