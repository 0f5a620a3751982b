"""A Review — one state in one cycle — and its stage deadlines (DESIGN §3, §4, §8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.cycle import Cycle
from app.models.state import State
from app.models.user import User
from workflows import ReviewStatus


class Review(Base):
    """The main workflow object. ``status`` changes only through the transition service."""

    __tablename__ = "review"
    __table_args__ = (UniqueConstraint("cycle_id", "state_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("state.id"), index=True)
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, "review_status"), default=ReviewStatus.SELF_ASSESSMENT
    )
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)
    #: The current publication consent (the newest PublicationConsent row's level, "none"
    #: before any), kept where consent is given (app/services/current.py, issue 20).
    publication_level: Mapped[str] = mapped_column(
        String(16), default="none", server_default="none"
    )

    cycle: Mapped[Cycle] = relationship(back_populates="reviews")
    state: Mapped[State] = relationship()
    deadlines: Mapped[list[ReviewDeadline]] = relationship(
        back_populates="review", order_by="ReviewDeadline.due_at"
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def title(self) -> str:
        return f"{self.state.name} — {self.cycle.name}"

    def __repr__(self) -> str:
        return f"<Review {self.id} {self.status}>"


class ReviewDeadline(Base):
    """The deadline of one stage of one review: an instant in UTC (shown in the cycle's zone)."""

    __tablename__ = "review_deadline"
    __table_args__ = (UniqueConstraint("review_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)

    review: Mapped[Review] = relationship(back_populates="deadlines")


class DeadlineChange(Base):
    """One change of a stage deadline by the secretariat, with its reason (DESIGN §8).

    Append-only: ``old_due_at`` and ``new_due_at`` are aware UTC instants; ``changed_at`` is the
    application clock's instant of the change; ``reason`` is what the secretariat typed.
    """

    __tablename__ = "deadline_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    old_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text)

    changed_by: Mapped[User] = relationship()
