"""Reviewer lot draws (DESIGN §3, §6): what was drawn, under which rules, from which pool."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.cycle import Cycle
from app.models.review import Review
from app.models.user import User


class Draw(Base):
    """One stored draw for one review; append-only.

    ``scope`` is ``"cycle"`` (drawn with the other open reviews of the cycle), ``"review"`` (this
    review's open seats) or ``"seat"`` (the seat of ``replaces_assignment_id`` after a decline,
    withdrawal or conflict). ``rules`` is the cycle's rules at the time (`draw.Rules.as_json`),
    ``pool`` the candidates with their workload and the cycle's reviewer→reviewed state pairs,
    ``result`` the reviewers drawn (id, name, state, regional group, lead, assignment id).
    ``actor_id`` is None for a draw made on the command line.
    """

    __tablename__ = "draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    scope: Mapped[str] = mapped_column(String(10))
    replaces_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    seed: Mapped[int] = mapped_column(BigInteger)
    rules: Mapped[dict] = mapped_column(JSON, default=dict)
    pool: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[list] = mapped_column(JSON, default=list)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cycle: Mapped[Cycle] = relationship()
    review: Mapped[Review] = relationship()
    actor: Mapped[User | None] = relationship()
