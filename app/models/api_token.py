"""Personal access tokens of the API (DESIGN §12, issue 19): a token acts as its user through the
same access rules as the pages; its scopes (``read``, ``write``) can only narrow them.

Only the SHA-256 of the token is stored (the token itself is shown once, when created); its first
characters (``prefix``) are kept so that the account page can tell tokens apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.user import User

#: The scopes a token may hold: ``read`` answers GET requests, ``write`` the posts.
SCOPES = ("read", "write")


class ApiToken(Base):
    """One personal access token. ``scopes``: space-separated subset of `SCOPES`; instants UTC."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("scopes <> ''", name="scopes_required"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now`` (aware UTC), and its user still active."""
        return self.revoked_at is None and now < self.expires_at and self.user.active
