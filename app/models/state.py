"""UN member states, their regional group and their treaty ratifications (§3, §9)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, enum_column


class RegionalGroup(enum.StrEnum):
    """The five UN regional groups (UN DGACM list of regional groups of member states)."""

    AFRICAN = "African Group"
    ASIA_PACIFIC = "Asia-Pacific Group"
    EASTERN_EUROPEAN = "Eastern European Group"
    GRULAC = "GRULAC"
    WEOG = "WEOG"


class State(Base):
    """A UN member state; ``code`` is ISO 3166-1 alpha-3."""

    __tablename__ = "state"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    iso2: Mapped[str | None] = mapped_column(String(2))
    regional_group: Mapped[RegionalGroup] = mapped_column(
        enum_column(RegionalGroup, "regional_group")
    )

    ratifications: Mapped[list[TreatyRatification]] = relationship(
        back_populates="state", order_by="TreatyRatification.treaty"
    )

    def __repr__(self) -> str:
        return f"<State {self.code}>"


class TreatyRatification(Base):
    """Status of one core UN human-rights instrument for one state (UN Treaty Collection, 2022)."""

    __tablename__ = "treaty_ratification"
    __table_args__ = (UniqueConstraint("state_id", "treaty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("state.id"), index=True)
    treaty: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))  # state party | signatory state | no action
    year: Mapped[int | None] = mapped_column(Integer)

    state: Mapped[State] = relationship(back_populates="ratifications")
