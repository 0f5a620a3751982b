"""National action plans (DESIGN §3 "Measure"; issue 17): the state's measures answering its
recommendations, the institutions responsible, indicators with dated values, milestones, progress
entries with evidence files, and the rounds of enhanced follow-up.

Modelled on the APRM's National Programme of Action and the national recommendation-tracking
databases OHCHR promotes: one measure may answer several recommendations (many-to-many, all of the
same review) and a recommendation may need several measures. History is kept: indicator values and
progress entries are append-only, a measure with progress is cancelled (with a reason), never
deleted. Enhanced follow-up follows GRECO and FATF: a shorter reporting cycle whose every round
ends with the secretariat's decision.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.evidence import EvidenceFile
from app.models.recommendation import Recommendation
from app.models.review import Review
from app.models.state import State
from app.models.user import User


class MeasureStatus(enum.StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    DELAYED = "delayed"
    CANCELLED = "cancelled"


class ReportingFrequency(enum.StrEnum):
    """How often an indicator's value is reported (months between reports in `MONTHS`)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


#: Months between two reports of an indicator, per frequency.
FREQUENCY_MONTHS = {
    ReportingFrequency.MONTHLY: 1,
    ReportingFrequency.QUARTERLY: 3,
    ReportingFrequency.SEMIANNUAL: 6,
    ReportingFrequency.ANNUAL: 12,
}


class RoundDecision(enum.StrEnum):
    """How the secretariat ends a round of enhanced follow-up (GRECO / FATF practice)."""

    BACK_TO_REGULAR = "back_to_regular"
    ANOTHER_ROUND = "another_round"
    FORMAL_NOTICE = "formal_notice"


measure_recommendation = Table(
    "measure_recommendation",
    Base.metadata,
    Column("measure_id", ForeignKey("measure.id"), primary_key=True),
    Column("recommendation_id", ForeignKey("recommendation.id"), primary_key=True, index=True),
)

measure_contributor = Table(
    "measure_contributor",
    Base.metadata,
    Column("measure_id", ForeignKey("measure.id"), primary_key=True),
    Column("institution_id", ForeignKey("institution.id"), primary_key=True),
)

measure_progress_file = Table(
    "measure_progress_file",
    Base.metadata,
    Column("progress_id", ForeignKey("measure_progress.id"), primary_key=True),
    Column("evidence_file_id", ForeignKey("evidence_file.id"), primary_key=True, unique=True),
)


class Institution(Base):
    """A national institution on a state's list (kept by its focal points, so names are not
    retyped on every measure)."""

    __tablename__ = "institution"
    __table_args__ = (UniqueConstraint("state_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("state.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    state: Mapped[State] = relationship()


class Measure(Base):
    """One measure of a review's action plan. Dates are calendar days in the cycle's zone;
    ``budget_line`` is free text (never published)."""

    __tablename__ = "measure"
    __table_args__ = (
        CheckConstraint(
            "start_date IS NULL OR due_date IS NULL OR start_date <= due_date",
            name="dates_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    lead_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    budget_line: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MeasureStatus] = mapped_column(
        enum_column(MeasureStatus, "measure_status"), default=MeasureStatus.PLANNED
    )
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    review: Mapped[Review] = relationship()
    lead_institution: Mapped[Institution | None] = relationship()
    contributors: Mapped[list[Institution]] = relationship(
        secondary=measure_contributor, order_by=Institution.name
    )
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=measure_recommendation, order_by=Recommendation.id
    )
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="measure", order_by="Indicator.id"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="measure", order_by="[Milestone.due_date, Milestone.id]"
    )
    progress: Mapped[list[MeasureProgress]] = relationship(
        back_populates="measure", order_by="[MeasureProgress.created_at, MeasureProgress.id]"
    )

    __mapper_args__ = {"version_id_col": version_id}


class Indicator(Base):
    """How a measure's result is measured: ``unit`` (e.g. "cases", "%"), numeric baseline and
    target in that unit, and how often a value is reported."""

    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(60), default="")
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    frequency: Mapped[ReportingFrequency] = mapped_column(
        enum_column(ReportingFrequency, "reporting_frequency"),
        default=ReportingFrequency.ANNUAL,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(Integer, default=1)

    measure: Mapped[Measure] = relationship(back_populates="indicators")
    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", order_by="[IndicatorValue.measured_on, IndicatorValue.id]"
    )

    __mapper_args__ = {"version_id_col": version_id}


class IndicatorValue(Base):
    """One reported value of an indicator, as of ``measured_on``; never overwritten (a correction
    is a newer value)."""

    __tablename__ = "indicator_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    progress_id: Mapped[int | None] = mapped_column(ForeignKey("measure_progress.id"))
    value: Mapped[float] = mapped_column(Float)
    measured_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    indicator: Mapped[Indicator] = relationship(back_populates="values")


class Milestone(Base):
    """A dated step of a measure; ``completed_on`` is set once, by a progress entry."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_progress_id: Mapped[int | None] = mapped_column(ForeignKey("measure_progress.id"))

    measure: Mapped[Measure] = relationship(back_populates="milestones")


class MeasureProgress(Base):
    """A dated progress entry on a measure: narrative, the status it reported (and the one
    before), with indicator values, milestones completed and evidence files attached."""

    __tablename__ = "measure_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    narrative: Mapped[str] = mapped_column(Text, default="")
    status_before: Mapped[MeasureStatus] = mapped_column(
        enum_column(MeasureStatus, "measure_status_before")
    )
    status_after: Mapped[MeasureStatus] = mapped_column(
        enum_column(MeasureStatus, "measure_status_after")
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    measure: Mapped[Measure] = relationship(back_populates="progress")
    author: Mapped[User] = relationship()
    files: Mapped[list[EvidenceFile]] = relationship(
        secondary=measure_progress_file, order_by=EvidenceFile.id
    )
    values: Mapped[list[IndicatorValue]] = relationship(order_by=IndicatorValue.id)


class EnhancedRound(Base):
    """One round of enhanced follow-up of a review: opened by ``escalate`` (or by the decision
    to hold another round), due at ``due_at`` (aware UTC, the progress deadline the round sets),
    and ended by the secretariat's ``decision``."""

    __tablename__ = "enhanced_round"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[RoundDecision | None] = mapped_column(
        enum_column(RoundDecision, "round_decision")
    )
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class EnhancedProposal(Base):
    """A proposal to enter enhanced follow-up, made automatically at a progress deadline when
    the share of supported recommendations assessed "not implemented" passed the cycle's
    threshold. ``share`` and ``threshold`` are percentages; one proposal per deadline."""

    __tablename__ = "enhanced_proposal"
    __table_args__ = (UniqueConstraint("review_id", "deadline_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    share: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
