"""Two-factor sign-in (issue 14): time-based one-time passwords (TOTP, RFC 6238: SHA-1, six
digits, 30-second steps, as every authenticator app reads them) with pyotp, ten single-use
recovery codes, and the secretariat's per-role requirement.

A secretariat account must use a second factor when ``TWO_FACTOR_REQUIRED_FOR_SECRETARIAT`` is
on (always under the production config); other roles when the secretariat requires it for the
role (`TwoFactorRequirement`), else optionally. An account that must but has not enrolled reaches
only the enrolment page. A code is accepted for the current step or the one before or after
(clock drift), and only for a step later than the last one accepted (``User.totp_last_step``,
compared under a row lock): a code seen over someone's shoulder cannot be replayed. Recovery
codes are stored as SHA-256 hashes and work once each. Every change is recorded in the account
audit log (`app.services.account_audit`); nothing here commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from app.extensions import db
from app.models import RecoveryCode, Role, TwoFactorRequirement, User
from app.services import account_audit, clock

#: Recovery codes given at enrolment.
RECOVERY_CODE_COUNT = 10
#: Characters of a recovery code (no 0/O, 1/l/I to misread).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Steps before and after the current one a code is still accepted for (clock drift).
VALID_WINDOW = 1
ISSUER = "Pillars"


class TwoFactorError(ValueError):
    """A code that is wrong, already used, or a refused reset; the message is for the person."""


def secretariat_required() -> bool:
    return bool(current_app.config.get("TWO_FACTOR_REQUIRED_FOR_SECRETARIAT", True))


def requirements() -> dict[Role, bool]:
    """Role → whether a second factor is required (the secretariat's from the configuration)."""
    stored = {row.role: row.required for row in db.session.scalars(select(TwoFactorRequirement))}
    result = {role: bool(stored.get(role, False)) for role in Role}
    if secretariat_required():
        result[Role.SECRETARIAT] = True
    return result


#: Seconds a worker trusts the per-role requirements it read (every request asks them): a change
#: made on the admin page applies at once in that worker, in the others within this time.
REQUIREMENTS_TTL = 30.0
_cached: dict[str, tuple[float, frozenset]] = {}


def _required_roles() -> frozenset:
    """The roles the table requires a second factor of, cached per database for
    `REQUIREMENTS_TTL` seconds."""
    key = str(db.engine.url)
    now = time.monotonic()
    hit = _cached.get(key)
    if hit is not None and now - hit[0] < REQUIREMENTS_TTL:
        return hit[1]
    roles = frozenset(
        db.session.scalars(
            select(TwoFactorRequirement.role).where(TwoFactorRequirement.required.is_(True))
        )
    )
    _cached[key] = (now, roles)
    return roles


def required_for(user: User) -> bool:
    """Whether ``user`` must sign in with a second factor."""
    if user.role == Role.SECRETARIAT and secretariat_required():
        return True
    return user.role in _required_roles()


def needs_enrolment(user: User) -> bool:
    """Whether ``user`` must enrol before reaching anything but the enrolment page."""
    return not user.has_two_factor and required_for(user)


def set_requirement(role: Role, required: bool, actor: User) -> bool:
    """Require (or not) a second factor for ``role``; returns whether anything changed.

    Raises:
        TwoFactorError: the secretariat's own role while the configuration requires it.
    """
    if role == Role.SECRETARIAT and secretariat_required() and not required:
        raise TwoFactorError(_("The secretariat always signs in with a second factor."))
    row = db.session.get(TwoFactorRequirement, role)
    if row is not None and row.required == required:
        return False
    if row is None:
        if not required:
            return False
        row = TwoFactorRequirement(role=role)
        db.session.add(row)
    row.required, row.changed_by_id, row.changed_at = required, actor.id, clock.now()
    _cached.pop(str(db.engine.url), None)
    account_audit.record(
        "two_factor_policy_changed",
        subject=None,
        actor=actor,
        detail={"role": role.value, "required": required},
    )
    db.session.flush()
    return True


# --- enrolment ---------------------------------------------------------------------------------


def pending_secret(user: User) -> str:
    """The key an account not yet enrolled is to add to its authenticator (made on first call,
    kept until enrolment so that reloading the page shows the same one)."""
    if user.has_two_factor:
        raise TwoFactorError(_("A second factor is already set up for this account."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` URI of ``secret`` for ``user`` (what the QR code holds)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """``uri`` as an inline SVG QR code (segno; drawn on the server, nothing from outside)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def grouped(secret: str) -> str:
    """The key in groups of four, easier to type: ``ABCD EFGH …``."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _step_matching(secret: str, code: str, now: float) -> int | None:
    """The time-step (30 s since the epoch) ``code`` belongs to within the window, or None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(_as_datetime(now))
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _as_datetime(now: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(now, UTC)


def _now() -> float:
    """Seconds since the epoch, from the application clock (tests may freeze it)."""
    return clock.now().timestamp()


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn the second factor on with the first code the authenticator shows; returns the ten
    recovery codes (to show once). Ends every other session of the account (a remember-me
    cookie from before cannot skip the new factor); the caller signs the person in again.

    Raises:
        TwoFactorError: no key pending, or a code that does not match it.
    """
    db.session.refresh(user, with_for_update=True)
    if user.has_two_factor or not user.totp_secret:
        raise TwoFactorError(_("Reload the page: there is no key waiting to be confirmed."))
    step = _step_matching(user.totp_secret, code, _now())
    if step is None:
        raise TwoFactorError(
            _("This code does not match. Check the key in your app and type the current code.")
        )
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    user.end_sessions()
    account_audit.record("two_factor_enrolled", subject=user, actor=user)
    db.session.flush()
    return codes


def renew_recovery_codes(user: User, code: str) -> list[str]:
    """Replace the account's recovery codes after checking a current authenticator code.

    Raises:
        TwoFactorError: as `verify`.
    """
    verify(user, code, allow_recovery=False)
    codes = _new_recovery_codes(user)
    account_audit.record("recovery_codes_renewed", subject=user, actor=user)
    db.session.flush()
    return codes


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _i in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw), created_at=clock.now()))
    return codes


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


# --- sign-in -----------------------------------------------------------------------------------


def verify(user: User, code: str, *, allow_recovery: bool = True) -> str:
    """Check the second step of a sign-in; returns ``"authenticator"`` or ``"recovery code"``.
    The account row is locked, so two requests cannot both use one code.

    Raises:
        TwoFactorError: a wrong code, a code of a step already used, or a used recovery code.
    """
    db.session.refresh(user, with_for_update=True)
    wrong = TwoFactorError(_("This code is not correct, or was already used. Try the next one."))
    if not user.has_two_factor:
        raise wrong
    step = _step_matching(user.totp_secret, code, _now())
    if step is not None:
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise wrong
        user.totp_last_step = step
        db.session.flush()
        return "authenticator"
    if allow_recovery and len(_normalise(code)) == 10:
        row = db.session.scalar(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(code),
                RecoveryCode.used_at.is_(None),
            )
        )
        if row is not None:
            row.used_at = clock.now()
            db.session.flush()
            return "recovery code"
    raise wrong


def reset(user: User, actor: User, reason: str) -> None:
    """Remove ``user``'s second factor (lost phone): key, recovery codes; ends their sessions.
    They enrol again at their next sign-in if it is required for them.

    Raises:
        TwoFactorError: the actor resets their own (another secretariat member must), no reason
            given, or nothing to reset.
    """
    reason = (reason or "").strip()
    if actor.id == user.id:
        raise TwoFactorError(_("Another secretariat member must reset your own second factor."))
    if not reason:
        raise TwoFactorError(_("Give the reason for the reset."))
    if not user.totp_secret and not user.has_two_factor:
        raise TwoFactorError(_("This account has no second factor to reset."))
    db.session.refresh(user, with_for_update=True)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
    account_audit.record("two_factor_reset", subject=user, actor=actor, detail={"reason": reason})
    db.session.flush()


def enrol_with_secret(user: User, secret: str) -> None:
    """Enrol ``user`` with a known ``secret`` and no recovery codes, without a code: for the
    demo's and the test suite's accounts only (the caller commits). Not used by any page."""
    user.totp_secret = secret
    user.totp_enabled_at = clock.now()
    user.totp_last_step = None
    db.session.flush()
