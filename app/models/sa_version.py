"""Frozen, numbered copies of a review's self-assessment, one per submission (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.user import User


class SelfAssessmentVersion(Base):
    """All answers of a review as submitted the ``number``-th time (1, 2, ... per review).

    ``content``: ``{"questions": {code: {"level": int | None, "choice": str | None,
    "narrative": str, "evidence": str}}, "sections": {section code: {"capacity_gaps": str,
    "assistance_sought": [kind, ...], "assistance_details": str}}}``. Never changed once written.
    """

    __tablename__ = "self_assessment_version"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    submitted_by: Mapped[User | None] = relationship()
