"""Signed links to set a password: invitations for accounts the secretariat created, and
password resets (issue 7).

A link carries ``{"u": user id, "f": fingerprint}`` signed with the app's ``SECRET_KEY``
(itsdangerous, salt ``pillars-password-link``) and a timestamp; it is refused after
``PASSWORD_LINK_MAX_AGE`` seconds (default 48 hours). The fingerprint is a hash of the account's
current password hash and session token: setting a password changes both, so a link works once,
and any later password change or sign-out everywhere also voids links given before. Nothing is
stored. The forgot-password page and a new account without a password send the link by e-mail
through the outbox (`send_link`, issue 6), marked secret so that the outbox page never shows it;
the secretariat can also copy a link from the account page, and in development the
forgot-password page writes it to the application log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from app.services.admin import SetupError, check_password

SALT = "pillars-password-link"
#: Default lifetime of a link in seconds (48 hours).
DEFAULT_MAX_AGE = 48 * 3600


class LinkInvalid(ValueError):
    """A link that is malformed, expired, already used, or for an inactive account; the message
    is for the person who followed it."""


def max_age() -> int:
    return int(current_app.config.get("PASSWORD_LINK_MAX_AGE", DEFAULT_MAX_AGE))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash}|{user.session_token}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def make_token(user: User) -> str:
    """A signed token for ``user``, valid `max_age` seconds and until the password changes."""
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def link_for(user: User) -> str:
    """The absolute URL of the set-password page for ``user`` (needs a request or SERVER_NAME)."""
    return url_for("auth.reset_password", token=make_token(user), _external=True)


def send_link(user: User, link: str, *, invitation: bool):
    """Queue the e-mail carrying ``link`` to ``user`` in the current transaction (the caller
    commits): an invitation to a new account, or a reset. Marked secret: its body is never shown
    on the outbox page nor in the app, and the log backend leaves it out unless
    ``PASSWORD_LINKS_IN_LOG``.

    Returns the queued `app.models.Notification` (None for an inactive account): after the
    commit its ``status`` says whether it was sent, is still queued, or was refused."""
    from app.services import notifications

    return notifications.queue(
        user,
        "account_invitation" if invitation else "password_reset",
        template="account_invitation" if invitation else "password_reset",
        context={"set_password_url": link, "hours": max_age() // 3600, "link": ""},
        secret=True,
    )


def user_for_token(token: str) -> User:
    """The active account a token was made for.

    Raises:
        LinkInvalid: a bad signature, an expired token, a token already used (the password
            changed since), or an inactive or unknown account.
    """
    try:
        payload = _serializer().loads(token, max_age=max_age())
    except SignatureExpired:
        raise LinkInvalid(_("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise LinkInvalid(_("This link is not valid. Ask for a new one.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise LinkInvalid(_("This link is not valid. Ask for a new one."))
    user = db.session.get(User, payload["u"])
    if user is None or not user.active:
        raise LinkInvalid(_("This link is not valid. Ask for a new one."))
    if not hmac.compare_digest(str(payload.get("f", "")), _fingerprint(user)):
        raise LinkInvalid(
            _("This link was already used, or the password changed since. Ask for a new one.")
        )
    return user


def set_password_with_token(token: str, password: str) -> User:
    """Check the token and the password policy, set the password (ending every session of the
    account, which also voids the token); flush.

    Raises:
        LinkInvalid: see `user_for_token`.
        SetupError: the password breaks the policy (`app.services.admin.check_password`).
    """
    user = user_for_token(token)
    db.session.refresh(user, with_for_update=True)
    user = user_for_token(token)  # re-checked under the row lock: two tabs cannot both use it
    check_password(password, user.email)
    user.set_password(password)
    db.session.flush()
    return user


def active_user_by_email(email: str) -> User | None:
    """The active account with ``email`` (compared without case), or None."""
    user = db.session.scalar(
        select(User).where(func.lower(User.email) == (email or "").strip().lower())
    )
    return user if user is not None and user.active else None


def unusable_password() -> str:
    """A random password nobody knows, for an account whose owner sets theirs through a link."""
    return secrets.token_urlsafe(32)


__all__ = [
    "LinkInvalid",
    "SetupError",
    "active_user_by_email",
    "link_for",
    "make_token",
    "max_age",
    "send_link",
    "set_password_with_token",
    "unusable_password",
    "user_for_token",
]
