"""Stakeholder submissions on a review (DESIGN §3, §5; issue 18), as in the UPR: a civil-society
organisation or national human-rights institution writes per framework section and attaches
files; the secretariat screens each submission and writes a per-section `StakeholderSummary`,
the only form in which the reviewed state reads them. ``anonymous`` asks that the organisation's
identity never reach anyone but the secretariat.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.framework import FrameworkSection
from app.models.review import Review
from app.models.user import User


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class StakeholderSubmission(Base):
    """One organisation's submission on one review."""

    __tablename__ = "stakeholder_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[SubmissionStatus] = mapped_column(
        enum_column(SubmissionStatus, "submission_status"), default=SubmissionStatus.SUBMITTED
    )
    screening_reason: Mapped[str] = mapped_column(Text, default="")
    screened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[Review] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    sections: Mapped[list[SubmissionSection]] = relationship(
        order_by="SubmissionSection.section_id", cascade="all, delete-orphan"
    )
    files: Mapped[list[SubmissionFile]] = relationship(order_by="SubmissionFile.id")


class SubmissionSection(Base):
    """The submission's text on one framework section."""

    __tablename__ = "submission_section"
    __table_args__ = (UniqueConstraint("submission_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_submission.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    body: Mapped[str] = mapped_column(Text)

    section: Mapped[FrameworkSection] = relationship()


class SubmissionFile(Base):
    """A file of a submission, stored (author metadata stripped) under a random key like evidence
    files. ``original_name`` is shown to the author and the secretariat only; anyone else gets
    `neutral_name`, so a file name cannot reveal an anonymous organisation."""

    __tablename__ = "submission_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("stakeholder_submission.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(32), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    extension: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def neutral_name(self) -> str:
        return f"submission-{self.submission_id}-file-{self.id}{self.extension}"


class StakeholderSummary(Base):
    """The secretariat's summary of the accepted submissions on one section of a review."""

    __tablename__ = "stakeholder_summary"
    __table_args__ = (UniqueConstraint("review_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    section: Mapped[FrameworkSection] = relationship()
