"""Second factor of sign-in (issue 14): the single-use recovery codes of an account, and which
roles the secretariat requires a second factor of. The authenticator's key itself is on
`app.models.user.User` (``totp_secret``, ``totp_enabled_at``, ``totp_last_step``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.user import Role


class RecoveryCode(Base):
    """One of the ten recovery codes of an account: stored as a SHA-256 hash (the codes are
    random, 50 bits each), usable once (``used_at`` set when used)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TwoFactorRequirement(Base):
    """Whether accounts of ``role`` must use a second factor (set by the secretariat on the
    admin page; a role without a row: optional). The secretariat's own role is always
    required under the production config, whatever this table says."""

    __tablename__ = "two_factor_requirement"

    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
