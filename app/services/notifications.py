"""The outbox: queue a notification in the caller's transaction, deliver it after the commit
(issue 6; DESIGN §4 "queue notifications, commit once").

`queue` renders the e-mail from ``templates/email/<template>.subject.txt``, ``.txt`` and ``.html``
and adds a `Notification` row to ``db.session`` without committing; once the caller's transaction
commits, the messages it queued are tried once (`app.services.after_commit.on_commit`); if it rolls
back, nothing was written and nothing is sent. `deliver_due` (CLI ``flask --app wsgi outbox
send``, for cron) sends what is due: new messages, and failed ones whose back-off has passed.

Delivery backends (``MAIL_BACKEND``): ``log`` writes the message to the application log and marks
it sent (development and tests); ``smtp`` sends with `smtplib` to ``MAIL_SERVER:MAIL_PORT``
(STARTTLS with ``MAIL_USE_TLS``, implicit TLS with ``MAIL_USE_SSL``, login with
``MAIL_USERNAME``/``MAIL_PASSWORD``), every network operation bounded by ``MAIL_TIMEOUT`` seconds.

Failures: a refused recipient, a refusal of the message, a timeout or a connection error is
recorded on that message only (status ``failed``, ``last_error`` = the server's code and answer,
e.g. ``"550 5.1.1 <x@example.org>: no such user"``, or ``"timed out after 5 s"``) and retried by
`deliver_due` after ``MAIL_RETRY_MINUTES`` × 3^(attempts − 1) minutes (5, 15, 45, 135, 405 by
default); the attempt number ``MAIL_MAX_ATTEMPTS`` (6) that fails makes it ``abandoned``. A
delivery failure never reaches the request that caused the message: the step stays committed.

Concurrency: each message is claimed before it is sent by a conditional UPDATE on its attempt
count (two ``outbox send`` runs at once never send the same message twice); the claim pushes
``next_attempt_at`` ``CLAIM_MINUTES`` ahead, so a sender that dies mid-way leaves the message to a
later run rather than lost.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, getaddresses, make_msgid
from typing import Any

from flask import current_app
from flask_babel import force_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, normalise_language, state_name_from_english
from app.models import Assignment, Notification, NotificationStatus, Review, User
from app.services import clock
from app.services.after_commit import on_commit

_LOG = logging.getLogger(__name__)
_OUTBOX_KEY = "pillars_outbox_ids"
#: How long a claimed message is held by the sender that claimed it, in minutes.
CLAIM_MINUTES = 10
#: Statuses `deliver_due` picks up (when their ``next_attempt_at`` has come).
DUE_STATUSES = (NotificationStatus.QUEUED, NotificationStatus.FAILED)


@dataclass
class DeliveryCounts:
    """What one delivery pass did: messages ``sent``, ``failed`` (will be retried),
    ``abandoned`` (no retry left, or inactive recipient), ``skipped`` (claimed by another
    sender first) and ``deferred`` (not tried: the server could not be reached in this pass; they
    stay due)."""

    sent: int = 0
    failed: int = 0
    abandoned: int = 0
    skipped: int = 0
    deferred: int = 0

    def add(self, other: DeliveryCounts) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.abandoned += other.abandoned
        self.skipped += other.skipped
        self.deferred += other.deferred


# --- queueing ---------------------------------------------------------------------------------


def queue(
    recipient: User,
    kind: str,
    *,
    template: str,
    context: dict[str, Any],
    review: Review | None = None,
    assignment: Assignment | None = None,
    dedupe_key: str | None = None,
    secret: bool = False,
) -> Notification | None:
    """Render ``template`` for ``recipient`` in the recipient's language (their stored choice,
    else English; DESIGN §11) and add the message to the current transaction.

    ``kind`` names the event (``"invitation"``, ``"reminder"``, ``"escalation"``…, see
    `app.services.notification_rules`); ``context`` is passed to the three templates together
    with ``recipient`` and ``app_url``. Nothing is committed here: the caller's commit writes the
    row, and the message is then tried once; a rollback drops both.

    Returns the new `Notification`, or None — nothing added — when ``recipient`` is inactive or a
    message with ``dedupe_key`` exists already. The check reads first; when two transactions
    race on the same key, the UNIQUE constraint on ``dedupe_key`` refuses the second insert. On
    PostgreSQL the insert is made at once inside a SAVEPOINT: the second one waits for the first
    transaction, fails only if that one commits, its savepoint is rolled back and None is
    returned — the caller's transaction goes on. On SQLite (no reliable SAVEPOINT under pysqlite;
    writers are serialised) the second transaction fails at its flush or commit with
    `IntegrityError` (or "database is locked"): the caller rolls back, and nothing is duplicated.
    ``secret`` marks a body holding a credential (a set-password link): the outbox page never
    shows it.
    """
    if not recipient.active:
        return None
    if dedupe_key is not None and _key_taken(dedupe_key):
        return None
    language = normalise_language(recipient.locale) or DEFAULT_LANGUAGE
    with force_locale(language):
        values = dict(
            context, recipient=recipient, app_url=current_app.config["APP_URL"], **_translators()
        )
        if isinstance(values.get("state_name"), str):
            values["state_name"] = state_name_from_english(values["state_name"], language)
        subject = " ".join(_render(f"email/{template}.subject.txt", values).split())
        body_text = re.sub(r"\n{3,}", "\n\n", _render(f"email/{template}.txt", values)).strip()
        body_html = _render(f"email/{template}.html", values)
    note = Notification(
        recipient=recipient,
        kind=kind,
        subject=subject[:300],
        body_text=body_text + "\n",
        body_html=body_html,
        review=review,
        assignment=assignment,
        created_at=clock.now(),
        status=NotificationStatus.QUEUED,
        attempts=0,
        next_attempt_at=clock.now(),
        last_error="",
        dedupe_key=dedupe_key,
        secret=secret,
    )
    if dedupe_key is not None and db.session.get_bind().dialect.name != "sqlite":
        try:
            with db.session.begin_nested():
                db.session.add(note)
        except IntegrityError:
            if note in db.session:
                db.session.expunge(note)
            return None
    else:
        db.session.add(note)
    _deliver_after_commit(note)
    return note


def _key_taken(dedupe_key: str) -> bool:
    """Whether a message with ``dedupe_key`` exists (as this transaction sees it)."""
    found = db.session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key))
    return found is not None


def _render(name: str, values: dict[str, Any]) -> str:
    """Render an e-mail template with the app's Jinja environment (translations, filters) but
    no request context: nothing about the person whose request caused the message leaks in;
    ``.html`` templates are autoescaped, ``.txt`` ones are not."""
    return current_app.jinja_env.get_template(name).render(values)


def _translators() -> dict[str, Any]:
    """``gettext`` (the templates' ``_``) and ``ngettext`` bound to the current translations,
    resolved once for the three templates of a message: Flask-Babel's own callables look the
    translations up again on every call. Same behaviour as Jinja's "newstyle" gettext (autoescaped
    in ``.html``, the text always %-formatted with the keyword arguments, ``num`` for plurals)."""
    translations = get_translations()

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            # a msgid is trusted, as in Jinja's own gettext; Markup's % escapes the values
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            # a msgid is trusted, as in Jinja's own gettext; Markup's % escapes the values
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}


def _deliver_after_commit(note: Notification) -> None:
    """Remember ``note`` for the one delivery pass that runs after this transaction commits
    (unless ``MAIL_DELIVER_AFTER_COMMIT`` is off: the message then waits for `deliver_due`)."""
    if not current_app.config.get("MAIL_DELIVER_AFTER_COMMIT", True):
        return
    session = db.session()
    pending = session.info.get(_OUTBOX_KEY)
    if pending is None:
        pending = session.info[_OUTBOX_KEY] = []
        app = current_app._get_current_object()

        def deliver_queued() -> None:
            queued = session.info.pop(_OUTBOX_KEY, [])
            ids = [key[0] for n in queued if (key := inspect(n).identity) is not None]
            if ids:
                with app.app_context():
                    deliver(ids)

        on_commit(deliver_queued)
    pending.append(note)


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_OUTBOX_KEY, None)


def retry_now(note: Notification) -> None:
    """Make a failed or abandoned message due now and try it after the caller's commit
    (the secretariat's "retry now"). Raises ValueError for a message that is not failed."""
    if note.status not in (NotificationStatus.FAILED, NotificationStatus.ABANDONED):
        raise ValueError("only a failed message can be retried")
    note.status = NotificationStatus.QUEUED
    note.next_attempt_at = clock.now()
    _deliver_after_commit(note)


# --- delivery ---------------------------------------------------------------------------------


def deliver_due(now: datetime, *, limit: int = 500) -> DeliveryCounts:
    """Send every queued or failed message whose ``next_attempt_at`` ≤ ``now`` (aware UTC), at
    most ``limit`` of them, oldest first, in a session of its own (commits after each message).
    Safe to run from cron while another run is going (see the module docstring)."""
    with Session(db.engine, expire_on_commit=False) as session:
        ids = session.scalars(
            select(Notification.id)
            .where(
                Notification.status.in_(DUE_STATUSES),
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
            )
            .order_by(Notification.id)
            .limit(limit)
        ).all()
    return deliver(list(ids), now=now)


def deliver(ids: list[int], *, now: datetime | None = None) -> DeliveryCounts:
    """Try each message of ``ids`` that is still queued or failed, once, in a session of its own.
    Returns the counts. Never raises for a delivery failure (it is recorded on the message)."""
    now = now or clock.now()
    counts = DeliveryCounts()
    transport = make_transport()
    try:
        with Session(db.engine, expire_on_commit=False) as session:
            for ident in ids:
                if transport.unreachable:
                    # the server cannot be reached: the rest stay queued for `deliver_due`
                    # rather than each waiting MAIL_TIMEOUT in turn
                    counts.deferred += 1
                    continue
                counts.add(_deliver_one(session, transport, ident, now))
    finally:
        transport.close()
    return counts


def _deliver_one(session: Session, transport: Transport, ident: int, now: datetime):
    counts = DeliveryCounts()
    note = session.get(Notification, ident)
    if note is None or note.status not in DUE_STATUSES:
        return counts
    attempts = note.attempts
    claimed = session.execute(
        update(Notification)
        .where(
            Notification.id == ident,
            Notification.attempts == attempts,
            Notification.status.in_(DUE_STATUSES),
        )
        .values(attempts=attempts + 1, next_attempt_at=now + timedelta(minutes=CLAIM_MINUTES))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if claimed != 1:
        counts.skipped += 1
        return counts
    session.refresh(note)
    recipient = note.recipient
    if not recipient.active:
        note.status = NotificationStatus.ABANDONED
        note.next_attempt_at = None
        note.last_error = "the recipient's account is inactive"
        counts.abandoned += 1
        session.commit()
        return counts
    try:
        message = build_message(note, recipient)
    except (ValueError, TypeError, LookupError) as broken:
        # e.g. a header that cannot hold a value (a display name with a line break, stored
        # before names were checked): this message fails with the reason, the pass goes on
        error = f"the message could not be built: {type(broken).__name__}: {broken}"
    else:
        error = transport.send(message, secret=note.secret)
    if error is None:
        note.status = NotificationStatus.SENT
        note.sent_at = clock.now()
        note.next_attempt_at = None
        note.last_error = ""
        counts.sent += 1
    else:
        note.last_error = error[:2000]
        if note.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            note.status = NotificationStatus.ABANDONED
            note.next_attempt_at = None
            counts.abandoned += 1
        else:
            note.status = NotificationStatus.FAILED
            note.next_attempt_at = now + backoff(note.attempts)
            counts.failed += 1
        _LOG.warning("notification %s to %s failed: %s", note.id, recipient.email, error)
    session.commit()
    return counts


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed tries (≥ 1):
    ``MAIL_RETRY_MINUTES`` × 3^(attempts − 1) — 5, 15, 45, 135, 405 minutes by default."""
    base = current_app.config["MAIL_RETRY_MINUTES"]
    return timedelta(minutes=base * 3 ** max(attempts - 1, 0))


def build_message(note: Notification, recipient: User) -> EmailMessage:
    """The e-mail of ``note``: multipart text + HTML, display names and subject in any script
    (RFC 2047 encoded-words; the SMTP policy's CRLF line ends)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = note.subject
    message["From"] = sender_address()
    message["To"] = Address(recipient.display_name, addr_spec=recipient.email)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender_address().domain or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(note.body_text)
    message.add_alternative(note.body_html, subtype="html")
    return message


def sender_address() -> Address:
    """``MAIL_DEFAULT_SENDER`` (``"Name <addr@host>"`` or ``addr@host``) as an `Address`."""
    name, addr = getaddresses([current_app.config["MAIL_DEFAULT_SENDER"]])[0]
    return Address(name, addr_spec=addr)


# --- transports -------------------------------------------------------------------------------


class Transport:
    """Sends messages; ``send`` returns None on success or the error text to record.
    ``unreachable`` turns true when the server itself failed (connection refused, timeout,
    greeting or login refused): the pass stops trying."""

    unreachable = False

    def send(self, message: EmailMessage, *, secret: bool = False) -> str | None:
        """Send ``message``; ``secret``: its body holds a credential."""
        raise NotImplementedError

    def close(self) -> None:
        return None


class LogTransport(Transport):
    """Development: the message goes to the application log ("delivered to the log")."""

    def send(self, message: EmailMessage, *, secret: bool = False) -> str | None:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        if secret and not current_app.config.get("PASSWORD_LINKS_IN_LOG"):
            text = "(body not logged: it holds a link to set a password)"
        _LOG.info(
            "e-mail (MAIL_BACKEND=log) to %s — %s\n%s", message["To"], message["Subject"], text
        )
        return None


class SMTPTransport(Transport):
    """One SMTP connection, opened on the first message and reused for the pass; reopened
    after a failure that may have broken it."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        timeout = float(c["MAIL_TIMEOUT"])
        if c["MAIL_USE_SSL"]:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                c["MAIL_SERVER"],
                c["MAIL_PORT"],
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=timeout)
            if c["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
        if c["MAIL_USERNAME"]:
            connection.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        return connection

    def send(self, message: EmailMessage, *, secret: bool = False) -> str | None:
        timeout = float(self.config["MAIL_TIMEOUT"])
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
            return None
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            return "; ".join(
                f"{code} {_text(answer)}" for code, answer in error.recipients.values()
            )
        except smtplib.SMTPResponseException as error:
            self._drop()
            self.unreachable = isinstance(
                error,
                smtplib.SMTPConnectError | smtplib.SMTPHeloError | smtplib.SMTPAuthenticationError,
            )
            return f"{error.smtp_code} {_text(error.smtp_error)}"
        except TimeoutError:
            self._drop()
            self.unreachable = True
            return f"timed out after {timeout:g} s"
        except smtplib.SMTPServerDisconnected as error:
            # smtplib reports a read that timed out as "Connection unexpectedly closed: timed out"
            self._drop()
            self.unreachable = True
            if "timed out" in str(error):
                return f"timed out after {timeout:g} s"
            return f"{type(error).__name__}: {error}"
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            self.unreachable = True
            return f"{type(error).__name__}: {error}"

    def _reset(self) -> None:
        """After a refused recipient the connection is fine: reset the transaction (RSET)."""
        try:
            if self.connection is not None:
                self.connection.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except OSError:
                _LOG.debug("closing a broken SMTP connection failed", exc_info=True)

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()


def _text(answer: bytes | str) -> str:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return re.sub(r"\s+", " ", text).strip()


def make_transport() -> Transport:
    """The transport ``MAIL_BACKEND`` names (``log`` | ``smtp``). Raises ValueError otherwise."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "log":
        return LogTransport()
    if backend == "smtp":
        return SMTPTransport(current_app.config)
    raise ValueError(f"unknown MAIL_BACKEND {backend!r}")


# --- reading: the in-app list, the outbox page, the review team's flags -----------------------


def unread_count(user: User) -> int:
    """How many of ``user``'s notifications are unread (one COUNT query)."""
    return (
        db.session.scalar(
            select(db.func.count(Notification.id)).where(
                Notification.recipient_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def own_query(user: User):
    """``user``'s own notifications, newest first (a query to paginate), each with its review's
    cycle loaded: times are shown in the cycle's zone, like every other page (issue 16)."""
    from sqlalchemy.orm import joinedload

    return (
        select(Notification)
        .where(Notification.recipient_id == user.id)
        .options(joinedload(Notification.review).joinedload(Review.cycle))
    )


def mark_read(user: User, note_id: int | None = None) -> int:
    """Mark ``user``'s notification ``note_id`` (or all of theirs) read, at the application
    clock's instant; never touches another user's. Returns how many rows changed (flushes)."""
    query = (
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if note_id is not None:
        query = query.where(Notification.id == note_id)
    return db.session.execute(query).rowcount


def outbox_query(status: str | None = None):
    """Every message, with its recipient and its review's cycle (for the time zone) loaded,
    optionally of one ``status`` (a query)."""
    from sqlalchemy.orm import joinedload

    query = select(Notification).options(
        joinedload(Notification.recipient),
        joinedload(Notification.review).joinedload(Review.cycle),
    )
    if status:
        query = query.where(Notification.status == NotificationStatus(status))
    return query


def status_counts() -> dict[str, int]:
    """Number of messages per status (every status present, zeros included)."""
    counts = dict(
        db.session.execute(
            select(Notification.status, db.func.count(Notification.id)).group_by(
                Notification.status
            )
        ).all()
    )
    return {status.value: counts.get(status, 0) for status in NotificationStatus}


def undelivered_invitations(review: Review) -> dict[int, Notification]:
    """Assignment id → the latest invitation e-mail of that assignment, for each assignment of
    ``review`` whose latest invitation is failed or abandoned (one query)."""
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.review_id == review.id, Notification.kind == "invitation")
        .where(Notification.assignment_id.is_not(None))
        .order_by(Notification.id)
    ).all()
    latest: dict[int, Notification] = {}
    for note in rows:
        latest[note.assignment_id] = note
    return {
        assignment_id: note
        for assignment_id, note in latest.items()
        if note.status in (NotificationStatus.FAILED, NotificationStatus.ABANDONED)
    }
