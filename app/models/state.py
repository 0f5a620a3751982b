"""UN member states, their regional group and their treaty ratifications (§3, §9)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import state_name
from app.models.base import Base, enum_column
from workflows.base import N_


class RegionalGroup(enum.StrEnum):
    """The five UN regional groups (UN DGACM list of regional groups of member states)."""

    AFRICAN = "African Group"
    ASIA_PACIFIC = "Asia-Pacific Group"
    EASTERN_EUROPEAN = "Eastern European Group"
    GRULAC = "GRULAC"
    WEOG = "WEOG"


#: How each regional group is named to people (translated where shown).
REGIONAL_GROUP_LABELS = {
    RegionalGroup.AFRICAN: N_("African Group"),
    RegionalGroup.ASIA_PACIFIC: N_("Asia-Pacific Group"),
    RegionalGroup.EASTERN_EUROPEAN: N_("Eastern European Group"),
    RegionalGroup.GRULAC: N_("Latin American and Caribbean Group (GRULAC)"),
    RegionalGroup.WEOG: N_("Western European and Others Group (WEOG)"),
}


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

    @property
    def local_name(self) -> str:
        """The state's name in the reader's language (`app.i18n.state_name`)."""
        return state_name(self.code, self.name)

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
