"""Pillar-two assistance (DESIGN §3; issue 18): a state's `AssistanceRequest` shared with
international partners, a partner's `Offer` against it, the `Programme` an accepted offer becomes,
its `ProgrammeNote` progress notes and the two `ProgrammeEvaluation` rows (the state's and the
partner's). Requests and programmes carry the brief's area and the OECD DAC 5-digit purpose code
(the IATI "Sector" codelist) donors' own systems use.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.framework import FrameworkSection
from app.models.recommendation import Recommendation
from app.models.review import Review
from app.models.state import State
from app.models.user import User
from workflows.base import N_


class AssistanceArea(enum.StrEnum):
    """The brief's pillar-two areas (the self-assessment's "assistance sought" choices)."""

    SECURITY_SECTOR_REFORM = "security_sector_reform"
    RULE_OF_LAW = "rule_of_law"
    CIVIL_SOCIETY = "civil_society"
    OTHER = "other"


AREA_LABELS = {
    AssistanceArea.SECURITY_SECTOR_REFORM: N_("Security-sector reform"),
    AssistanceArea.RULE_OF_LAW: N_("Rule-of-law assistance"),
    AssistanceArea.CIVIL_SOCIETY: N_("Aid to civil society"),
    AssistanceArea.OTHER: N_("Other"),
}

#: OECD DAC 5-digit purpose codes (IATI "Sector" codelist) offered for pillar-two assistance.
PURPOSE_CODES = {
    "15210": N_("15210 Security system management and reform"),
    "15130": N_("15130 Legal and judicial development"),
    "15150": N_("15150 Democratic participation and civil society"),
    "15160": N_("15160 Human rights"),
    "15220": N_("15220 Civilian peace-building, conflict prevention and resolution"),
}
#: The purpose code proposed for each area.
DEFAULT_PURPOSE = {
    AssistanceArea.SECURITY_SECTOR_REFORM: "15210",
    AssistanceArea.RULE_OF_LAW: "15130",
    AssistanceArea.CIVIL_SOCIETY: "15150",
    AssistanceArea.OTHER: "15220",
}


class RequestStatus(enum.StrEnum):
    DRAFT = "draft"
    SHARED = "shared"
    WITHDRAWN = "withdrawn"


class OfferKind(enum.StrEnum):
    FUNDING = "funding"
    EXPERTISE = "expertise"
    TRAINING = "training"
    EQUIPMENT = "equipment"


class OfferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ProgrammeStatus(enum.StrEnum):
    UNDER_WAY = "under_way"
    COMPLETED = "completed"


class Side(enum.StrEnum):
    """Which party of a programme wrote a note or an evaluation."""

    STATE = "state"
    PARTNER = "partner"


request_recommendation = Table(
    "assistance_request_recommendation",
    Base.metadata,
    Column("request_id", ForeignKey("assistance_request.id"), primary_key=True),
    Column("recommendation_id", ForeignKey("recommendation.id"), primary_key=True),
)


class AssistanceRequest(Base):
    """A need a state publishes to partners. Nothing of it is shown to partners while
    ``status`` is ``draft`` or after ``withdrawn`` (DESIGN §5)."""

    __tablename__ = "assistance_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("state.id"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("framework_section.id"))
    area: Mapped[AssistanceArea] = mapped_column(enum_column(AssistanceArea, "assistance_area"))
    purpose_code: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(200))
    need: Mapped[str] = mapped_column(Text)
    shared_details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"), default=RequestStatus.DRAFT
    )
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    state: Mapped[State] = relationship()
    review: Mapped[Review | None] = relationship()
    section: Mapped[FrameworkSection | None] = relationship()
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=request_recommendation, order_by=Recommendation.id
    )
    offers: Mapped[list[Offer]] = relationship(
        back_populates="request", order_by="Offer.created_at"
    )


class Offer(Base):
    """A partner's offer of support against a shared request; the state accepts or declines it
    with a reason. Equipment needs its safeguards against misuse stated (the brief, on aid to the
    security sector): a CHECK makes an equipment offer without them unstorable."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint(
            "kind != 'equipment' OR length(trim(safeguards)) > 0", name="equipment_safeguards"
        ),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("assistance_request.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[OfferKind] = mapped_column(enum_column(OfferKind, "offer_kind"))
    description: Mapped[str] = mapped_column(Text)
    safeguards: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.PENDING
    )
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[AssistanceRequest] = relationship(back_populates="offers")
    partner: Mapped[User] = relationship(foreign_keys=[partner_id])
    programme: Mapped[Programme | None] = relationship(back_populates="offer")


class Programme(Base):
    """An accepted offer under way: dates (``starts_on`` ≤ ``ends_on``), an optional amount in
    ``currency`` (ISO 4217), the area and purpose code of its request."""

    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), unique=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("state.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    area: Mapped[AssistanceArea] = mapped_column(enum_column(AssistanceArea, "assistance_area"))
    purpose_code: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[ProgrammeStatus] = mapped_column(
        enum_column(ProgrammeStatus, "programme_status"), default=ProgrammeStatus.UNDER_WAY
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship(back_populates="programme")
    state: Mapped[State] = relationship()
    partner: Mapped[User] = relationship(foreign_keys=[partner_id])
    notes: Mapped[list[ProgrammeNote]] = relationship(order_by="ProgrammeNote.created_at")
    evaluations: Mapped[list[ProgrammeEvaluation]] = relationship(back_populates="programme")

    def evaluation_by(self, side: Side) -> ProgrammeEvaluation | None:
        return next((e for e in self.evaluations if e.side == side), None)

    @property
    def published(self) -> bool:
        """Public only when both parties evaluated and both consented (issue 18)."""
        both = [self.evaluation_by(Side.STATE), self.evaluation_by(Side.PARTNER)]
        return all(e is not None and e.consent_to_publish for e in both)


class ProgrammeNote(Base):
    """A dated progress note by the state or the partner; never edited or deleted."""

    __tablename__ = "programme_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    side: Mapped[Side] = mapped_column(enum_column(Side, "programme_side"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class ProgrammeEvaluation(Base):
    """One party's evaluation of a completed programme; ``consent_to_publish`` is that party's
    consent to the public good-practice library (both are needed)."""

    __tablename__ = "programme_evaluation"
    __table_args__ = (UniqueConstraint("programme_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"), index=True)
    side: Mapped[Side] = mapped_column(enum_column(Side, "programme_side"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    what_was_done: Mapped[str] = mapped_column(Text)
    outcomes: Mapped[str] = mapped_column(Text)
    what_worked: Mapped[str] = mapped_column(Text)
    what_did_not: Mapped[str] = mapped_column(Text)
    would_repeat: Mapped[bool] = mapped_column(Boolean)
    consent_to_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="evaluations")
