"""Recommendations and what follows them: Response, ProgressUpdate, Assessment (DESIGN §3).

Scales: ``action_category`` is the UPR Info action category 1–5 (1 minimal action, 2 continuing
action, 3 considering action, 4 general action, 5 specific action); responses are the UPR terms
*supported* / *noted*; assessments follow GRECO's compliance practice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.framework import FrameworkSection
from app.models.user import User
from workflows.base import N_

ACTION_CATEGORIES = {
    1: N_(
        "Minimal action — addressed to states other than the state under review, or calls for "
        "minimal effort"
    ),
    2: N_("Continuing action — asks the state to continue or maintain an existing effort"),
    3: N_("Considering action — asks the state to consider, review or reflect on a change"),
    4: N_("General action — calls for action in general terms"),
    5: N_("Specific action — calls for a specific, measurable action"),
}


class Priority(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Addressee(enum.StrEnum):
    STATE = "state"
    INTERNATIONAL_PARTNERS = "international_partners"


class ResponsePosition(enum.StrEnum):
    SUPPORTED = "supported"
    NOTED = "noted"


class ProgressStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class AssessmentStatus(enum.StrEnum):
    IMPLEMENTED = "implemented"
    PARTIALLY_IMPLEMENTED = "partially_implemented"
    NOT_IMPLEMENTED = "not_implemented"
    NO_LONGER_APPLICABLE = "no_longer_applicable"


class Recommendation(Base):
    """A recommendation of a review's report: the central record of the regime."""

    __tablename__ = "recommendation"
    __table_args__ = (
        CheckConstraint("action_category BETWEEN 1 AND 5", name="action_category_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("framework_section.id"))
    text: Mapped[str] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"))
    action_category: Mapped[int] = mapped_column(Integer)
    addressee: Mapped[Addressee] = mapped_column(
        enum_column(Addressee, "addressee"), default=Addressee.STATE
    )
    target_date: Mapped[date | None] = mapped_column(Date)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposed_recommendation.id"))
    #: The recommendation of the state's previous review this one carries over ("as recommended
    #: previously"), when it was not implemented then.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("recommendation.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The current rows of its history, kept where they are written (app/services/current.py,
    # issue 20): the newest progress update's and assessment's status value and instant (UTC),
    # None before the first. Read by the dashboard, the exports and the public pages, so their
    # cost does not grow with the history of past cycles.
    latest_progress_status: Mapped[str | None] = mapped_column(String(32))
    latest_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latest_assessment_status: Mapped[str | None] = mapped_column(String(32))
    latest_assessment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    section: Mapped[FrameworkSection] = relationship()
    carried_from: Mapped[Recommendation | None] = relationship(remote_side=[id])
    review: Mapped[Review] = relationship()  # noqa: F821
    response: Mapped[Response | None] = relationship(back_populates="recommendation")
    progress_updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="recommendation", order_by="ProgressUpdate.created_at"
    )
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="recommendation", order_by="Assessment.created_at"
    )


class Response(Base):
    """The state's answer to a recommendation; partial drafts save, submission needs a position."""

    __tablename__ = "response"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), unique=True)
    position: Mapped[ResponsePosition | None] = mapped_column(
        enum_column(ResponsePosition, "response_position")
    )
    explanation: Mapped[str] = mapped_column(Text, default="")
    planned_action: Mapped[str] = mapped_column(Text, default="")
    responsible_institution: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    recommendation: Mapped[Recommendation] = relationship(back_populates="response")


class ProgressUpdate(Base):
    """A dated progress report by the state on one recommendation."""

    __tablename__ = "progress_update"
    #: the newest update of a recommendation (app/services/latest.py) from the index alone
    __table_args__ = (Index("ix_progress_update_history", "recommendation_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    status: Mapped[ProgressStatus] = mapped_column(enum_column(ProgressStatus, "progress_status"))
    narrative: Mapped[str] = mapped_column(Text, default="")
    #: What shows the progress (documents, links, references), as text.
    evidence: Mapped[str] = mapped_column(Text, default="", server_default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation: Mapped[Recommendation] = relationship(back_populates="progress_updates")
    author: Mapped[User] = relationship()


class Assessment(Base):
    """A dated implementation assessment by the secretariat (GRECO-style compliance scale)."""

    __tablename__ = "assessment"
    #: the newest assessment of a recommendation (app/services/latest.py) from the index alone
    __table_args__ = (Index("ix_assessment_history", "recommendation_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus, "assessment_status")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation: Mapped[Recommendation] = relationship(back_populates="assessments")
    author: Mapped[User] = relationship()
