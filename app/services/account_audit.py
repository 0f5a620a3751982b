"""The account audit log (issue 14): `record` adds one `AccountEvent` to the caller's
transaction; `events_query` and `to_csv` read it for the secretariat's page and its export.

What is recorded (`KINDS`): every sign-in (succeeded, or failed with the reason: wrong password,
wrong code, inactive account, unknown address), sign-out, password set through a link or by the
secretariat, set-password link issued, account created, role or state changed, deactivation
and reactivation, second factor enrolled or reset, and the secretariat's per-role requirement
of a second factor. Each row says who acted (None: nobody signed in, or the command line), on
whom, when (UTC) and the client address as the app sees it behind its trusted proxies
(``PROXY_COUNT``: werkzeug's ProxyFix rewrites ``request.remote_addr``). The log is append-only
(the model refuses updates and deletes) and never holds a password, code, token or link:
`record` refuses such keys in ``detail``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from app.extensions import db
from app.formatting import format_instant
from app.models import AccountEvent, User
from app.services import clock
from app.services.exports import neutralise

#: Every kind of event, with its label on the audit page and in the CSV export.
KINDS: dict[str, Any] = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed"),
    "sign_out": _l("Signed out"),
    "password_set": _l("Password set through a link"),
    "password_reset": _l("Password set by the secretariat"),
    "link_issued": _l("Set-password link issued"),
    "account_created": _l("Account created"),
    "role_changed": _l("Role changed"),
    "state_changed": _l("State changed"),
    "deactivated": _l("Account deactivated"),
    "reactivated": _l("Account reactivated"),
    "two_factor_enrolled": _l("Second factor enrolled"),
    "two_factor_reset": _l("Second factor reset"),
    "recovery_codes_renewed": _l("Recovery codes renewed"),
    "two_factor_policy_changed": _l("Second-factor requirement changed"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
}
#: Why a sign-in failed (``detail["reason"]`` of ``sign_in_failed``).
FAILURE_REASONS: dict[str, Any] = {
    "wrong_password": _l("wrong password"),
    "wrong_code": _l("wrong code"),
    "inactive": _l("inactive account"),
    "unknown_account": _l("no account with this e-mail"),
}
#: Keys never stored in ``detail``: the log must not become a source of credentials.
FORBIDDEN_KEYS = frozenset({"password", "code", "token", "secret", "link", "url", "otp"})


def client_address() -> str:
    """The client's IP address of the current request as seen behind the trusted proxies
    (``PROXY_COUNT``), or "" outside a request (the command line)."""
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:64]


def record(
    kind: str,
    *,
    subject: User | None,
    actor: User | None,
    detail: dict | None = None,
) -> AccountEvent:
    """Add an event to the current transaction (the caller commits; a rollback drops it with
    the change it records). Times are UTC (`app.services.clock.now`).

    ``kind``: a key of `KINDS`. ``subject``: the account it happened to. ``actor``: who did it
    (None for someone not signed in, or the command line). ``detail``: small JSON-able facts.

    Raises:
        ValueError: an unknown kind, or a ``detail`` key naming a credential (`FORBIDDEN_KEYS`).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown account event kind {kind!r}")
    detail = dict(detail or {})
    leaked = {key for key in detail if any(word in key.lower() for word in FORBIDDEN_KEYS)}
    if leaked:
        raise ValueError(f"account events never hold credentials: {sorted(leaked)}")
    event = AccountEvent(
        created_at=clock.now(),
        kind=kind,
        subject_id=subject.id if subject is not None else None,
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        address=client_address(),
        detail=detail,
    )
    db.session.add(event)
    return event


def events_query(
    *,
    kind: str | None = None,
    account: str = "",
    address: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """Events newest first, filtered: ``kind`` (a key of `KINDS`), ``account`` (part of the
    e-mail or name of the subject or the actor, or the e-mail typed in a failed sign-in, without
    case), ``address`` (start of the client address), ``since`` / ``until`` (aware instants,
    ``until`` exclusive)."""
    subject, actor = aliased(User), aliased(User)
    query = (
        select(AccountEvent)
        .outerjoin(subject, AccountEvent.subject_id == subject.id)
        .outerjoin(actor, AccountEvent.actor_id == actor.id)
        .options(joinedload(AccountEvent.subject), joinedload(AccountEvent.actor))
    )
    if kind:
        query = query.where(AccountEvent.kind == kind)
    if account.strip():
        pattern = f"%{account.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(subject.email).like(pattern),
                func.lower(subject.display_name).like(pattern),
                func.lower(actor.email).like(pattern),
                func.lower(actor.display_name).like(pattern),
                func.lower(AccountEvent.detail["email"].as_string()).like(pattern),
            )
        )
    if address.strip():
        query = query.where(AccountEvent.address.startswith(address.strip()))
    if since is not None:
        query = query.where(AccountEvent.created_at >= since)
    if until is not None:
        query = query.where(AccountEvent.created_at < until)
    return query


def describe(event: AccountEvent) -> str:
    """The event's details in words for the page and the CSV (reason, old → new…)."""
    detail = event.detail or {}
    parts = []
    if "reason" in detail and event.kind == "sign_in_failed":
        parts.append(str(FAILURE_REASONS.get(detail["reason"], detail["reason"])))
    elif "reason" in detail:
        parts.append(str(detail["reason"]))
    if "from" in detail or "to" in detail:
        parts.append(f"{detail.get('from') or '—'} → {detail.get('to') or '—'}")
    for key in ("email", "purpose", "delivery", "method", "role", "required", "via"):
        if key in detail:
            parts.append(f"{key}: {detail[key]}")
    return "; ".join(parts)


#: CSV columns: (header, value of an event in the zone given).
CSV_HEADERS = ("time (UTC)", "time", "event", "account", "by", "client address", "details")


def to_csv(events: list[AccountEvent], zone: str) -> bytes:
    """UTF-8 CSV (with BOM) of ``events``: the instant in UTC (ISO 8601) and in ``zone``, the
    event, the account and the actor (e-mail), the client address and the details; cells are
    safe from spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADERS)
    for event in events:
        writer.writerow(
            [
                neutralise(value)
                for value in (
                    event.created_at.isoformat(timespec="seconds"),
                    format_instant(event.created_at, zone),
                    str(KINDS.get(event.kind, event.kind)),
                    event.subject.email if event.subject else (event.detail or {}).get("email", ""),
                    event.actor.email if event.actor else "",
                    event.address,
                    describe(event),
                )
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
