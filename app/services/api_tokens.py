"""Personal access tokens of the API (DESIGN §12, issue 19): create (shown once), list, revoke,
and resolve the token of a request to its user, recording its last use.

A token is ``pil_`` followed by 32 random bytes (URL-safe base64); only its SHA-256 is stored, so
a leaked database does not leak usable tokens. Token events (created, revoked) go to the account
audit log through `_audit`, the one place that knows about it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User
from app.models.api_token import SCOPES
from app.services import clock

#: The token's visible start, also kept (``prefix``) to tell tokens apart on the account page.
TOKEN_PREFIX = "pil_"  # noqa: S105 — a visible marker, not a secret
#: Lifetimes offered on the account page, in days; a token never lives longer than a year.
LIFETIMES_DAYS = (30, 90, 365)
#: A token's last use is written at most this often (a busy sync would otherwise write each call).
LAST_USE_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be created or revoked; the message says why."""


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _audit(kind: str, token: ApiToken, actor: User) -> None:
    """Write a token event (``api_token_created`` / ``api_token_revoked``) to the account audit
    log of the token's user: its name, prefix and scopes, never the token itself."""
    from app.services import account_audit

    account_audit.record(
        kind,
        subject=token.user,
        actor=actor,
        detail={"name": token.name, "prefix": token.prefix, "scopes": (token.scopes or "").split()},
    )


def create_token(user: User, name: str, scopes: list[str], days: int) -> tuple[ApiToken, str]:
    """Create a token for ``user``; flush; return the row and the token text (shown once).

    ``scopes``: a non-empty subset of ``read``/``write``; ``days``: one of `LIFETIMES_DAYS`.

    Raises:
        TokenError: no name, no or unknown scope, a lifetime not offered.
    """
    name = (name or "").strip()
    if not name:
        raise TokenError(_("Give the token a name."))
    if len(name) > 100:
        raise TokenError(_("The name is at most 100 characters."))
    chosen = [s for s in SCOPES if s in set(scopes or [])]
    if not chosen or len(chosen) != len(set(scopes)):
        raise TokenError(_("Choose what the token may do."))
    if days not in LIFETIMES_DAYS:
        raise TokenError(_("Choose how long the token stays valid."))
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(text),
        prefix=text[: len(TOKEN_PREFIX) + 6],
        scopes=" ".join(chosen),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    token.user = user
    _audit("api_token_created", token, user)
    return token, text


def tokens_of(user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first, revoked and expired ones included."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_of(user: User, token_id: int) -> ApiToken | None:
    """Token ``token_id`` if it is ``user``'s own, else None."""
    token = db.session.get(ApiToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def revoke_token(token: ApiToken, actor: User) -> bool:
    """Revoke ``token`` now; flush. False (nothing changed) when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    db.session.flush()
    _audit("api_token_revoked", token, actor)
    return True


def authenticate(text: str | None, now: datetime | None = None) -> ApiToken | None:
    """The usable token whose text is ``text`` (not revoked, not expired, user active), its last
    use recorded (flushed, to the minute); None otherwise."""
    if not text or not text.startswith(TOKEN_PREFIX) or len(text) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(text)))
    now = now or clock.now()
    if token is None or not token.usable_at(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return token
