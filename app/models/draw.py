"""Reviewer lot draws (DESIGN §3, §6): what was drawn, under which rules, from which pool."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
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

    A draw is recorded when it is *opened* (``status`` "open": seed, pool, rules and the team it
    gives stored, ``actor_id`` and ``created_at`` saying who opened it and when) before any team
    is shown, so a preview cannot be re-rolled unseen (DESIGN §6). It then becomes "confirmed"
    (the reviewers are invited) or "set_aside" when someone draws again, which opens a new draw
    whose ``reason`` says why. Draws opened together (a whole-cycle draw) share ``batch`` (the id
    of the first of them). ``closed_at`` / ``closed_by_id``: when and by whom it was confirmed or
    set aside. ``pool["inputs"]`` holds what the draw was computed from (requests, candidates,
    pairs; ids), so anyone entitled can recompute it (`app.services.draws.verify`).
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
    status: Mapped[str] = mapped_column(String(12), default="confirmed", server_default="confirmed")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    batch: Mapped[int | None] = mapped_column(Integer, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    cycle: Mapped[Cycle] = relationship()
    review: Mapped[Review] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
