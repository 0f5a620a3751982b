"""Prior UPR recommendations imported from UPR Info database exports (DESIGN §9).

A `PriorRecommendation` is a recommendation a state received in the UN Universal Periodic Review,
kept as published: text, recommending state (name as published, ISO 3166-1 alpha-3 code when it
could be mapped), the state's response (UPR Info "Accepted" → supported, "Noted" → noted), the UPR
Info action category 1–5, the issues (comma list as published) and the UPR session. It is linked
to the state under review (a `State` row) and to the Pillars cycle it was imported for.

``source_hash`` (SHA-256 of the source row's fields) is unique: importing the same file again, or
into another cycle, adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.cycle import Cycle
from app.models.recommendation import ResponsePosition
from app.models.state import State

#: UPR cycles by their session numbers (OHCHR: 1st cycle sessions 1–12, 2008–2011; 2nd 13–26,
#: 2012–2016; 3rd 27–40, 2017–2022; 4th from session 41, 2022–).
UPR_CYCLE_FIRST_SESSIONS = ((4, 41), (3, 27), (2, 13), (1, 1))


def upr_cycle_of(session: int) -> int:
    """The UPR cycle (1–4) of UPR Working Group session ``session`` (≥ 1)."""
    for cycle, first in UPR_CYCLE_FIRST_SESSIONS:
        if session >= first:
            return cycle
    raise ValueError(f"no UPR session {session}")


class PriorRecommendation(Base):
    """A UPR recommendation a state received before this regime, imported as published."""

    __tablename__ = "prior_recommendation"
    __table_args__ = (
        CheckConstraint("action_category BETWEEN 1 AND 5", name="prior_action_category_range"),
        CheckConstraint("upr_session >= 1", name="upr_session_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("state.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    #: the name of the state under review as the export spells it (e.g. "Republic of Congo")
    published_state_name: Mapped[str] = mapped_column(String(120))
    recommending_state: Mapped[str] = mapped_column(String(120))
    recommending_code: Mapped[str | None] = mapped_column(String(3))
    recommending_group: Mapped[str] = mapped_column(String(20), default="")
    response: Mapped[ResponsePosition] = mapped_column(
        enum_column(ResponsePosition, "response_position")
    )
    action_category: Mapped[int] = mapped_column(Integer)
    issues: Mapped[str] = mapped_column(Text, default="")
    upr_session: Mapped[int] = mapped_column(Integer)
    source_file: Mapped[str] = mapped_column(String(255), default="")
    source_hash: Mapped[str] = mapped_column(String(64), unique=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    state: Mapped[State] = relationship()
    cycle: Mapped[Cycle] = relationship()

    @property
    def issue_list(self) -> list[str]:
        return [issue.strip() for issue in self.issues.split(",") if issue.strip()]

    @property
    def upr_cycle(self) -> int:
        return upr_cycle_of(self.upr_session)
