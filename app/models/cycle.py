"""Review cycles: framework version, time zone, stage durations, draw rules (DESIGN §3, §6)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.framework import Framework
from workflows import CycleStatus


class Cycle(Base):
    """One round of reviews, e.g. "2027 cycle". Durations are in days; ``time_zone`` is IANA."""

    __tablename__ = "cycle"
    __table_args__ = (
        CheckConstraint("team_size BETWEEN 1 AND 7", name="team_size_range"),
        CheckConstraint("draw_max_per_reviewer BETWEEN 1 AND 20", name="draw_max_range"),
        CheckConstraint(
            "self_assessment_days > 0 AND evaluation_days > 0 AND factual_check_days > 0 "
            "AND response_days > 0 AND follow_up_days > 0",
            name="positive_durations",
        ),
        CheckConstraint(
            "regular_interval_months BETWEEN 1 AND 60 "
            "AND enhanced_interval_months BETWEEN 1 AND 60",
            name="follow_up_intervals_range",
        ),
        CheckConstraint(
            "not_implemented_threshold BETWEEN 1 AND 100", name="not_implemented_threshold_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("framework.id"))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_on: Mapped[date] = mapped_column(Date)
    status: Mapped[CycleStatus] = mapped_column(
        enum_column(CycleStatus, "cycle_status"), default=CycleStatus.PLANNING
    )
    self_assessment_days: Mapped[int] = mapped_column(Integer, default=90)
    evaluation_days: Mapped[int] = mapped_column(Integer, default=90)
    factual_check_days: Mapped[int] = mapped_column(Integer, default=30)
    response_days: Mapped[int] = mapped_column(Integer, default=60)
    follow_up_days: Mapped[int] = mapped_column(Integer, default=365)
    team_size: Mapped[int] = mapped_column(Integer, default=3)
    # draw by lot rules (DESIGN §6); own state and declared conflicts are always excluded
    draw_distinct_groups: Mapped[bool] = mapped_column(Boolean, default=True)
    draw_same_group: Mapped[bool] = mapped_column(Boolean, default=False)
    draw_max_per_reviewer: Mapped[int] = mapped_column(Integer, default=2)
    draw_no_reciprocal: Mapped[bool] = mapped_column(Boolean, default=True)
    # follow-up reporting (issue 17; FATF regular vs enhanced follow-up): months between progress
    # deadlines, and the share (percent) of supported recommendations assessed "not implemented"
    # at a progress deadline from which enhanced follow-up is proposed
    regular_interval_months: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    enhanced_interval_months: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    not_implemented_threshold: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    framework: Mapped[Framework | None] = relationship()
    reviews: Mapped[list[Review]] = relationship(back_populates="cycle")  # noqa: F821

    __mapper_args__ = {"version_id_col": version_id}

    def __repr__(self) -> str:
        return f"<Cycle {self.name}>"
