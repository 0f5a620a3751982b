"""AccountEvent: the append-only account audit log (issue 14) — sign-ins, sign-outs, passwords,
set-password links, roles, states, activation and the second factor, with who acted on whom,
when (UTC) and from which client address. Rows are only ever added: an update or a delete of
one raises before it reaches the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.user import User


class AccountEvent(Base):
    """One thing that happened to an account. ``kind`` is one of
    `app.services.account_audit.KINDS`; ``subject`` the account it happened to (None: a failed
    sign-in for an address without an account, whose typed e-mail is in ``detail``); ``actor``
    who did it (None: the person was not signed in, or the command line); ``address`` the
    client's IP address as seen behind the trusted proxies (``PROXY_COUNT``), empty outside a
    request; ``detail`` small JSON facts (reason, old and new role…), never a password, code or
    token."""

    __tablename__ = "account_event"
    __table_args__ = (
        Index("ix_account_event_created", "created_at", "id"),
        Index("ix_account_event_subject", "subject_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class AppendOnly(RuntimeError):
    """An account event was to be changed or deleted: the audit log only grows."""


@event.listens_for(AccountEvent, "before_update")
def _refuse_update(_mapper, _connection, target: AccountEvent) -> None:
    raise AppendOnly(f"account event {target.id} cannot be changed: the audit log is append-only")


@event.listens_for(AccountEvent, "before_delete")
def _refuse_delete(_mapper, _connection, target: AccountEvent) -> None:
    raise AppendOnly(f"account event {target.id} cannot be deleted: the audit log is append-only")
