"""E-mail delivery against a real SMTP server on loopback (aiosmtpd), issue 6 §1 and §4:
delivery, a refused recipient, a timeout, retries with back-off, non-ASCII names and subjects,
nothing sent for a rolled-back step, and a delivery failure never failing the step."""

from __future__ import annotations

import asyncio
import email
import socket
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Notification, NotificationStatus
from app.services import notifications
from app.services.transitions import apply_transition
from workflows import ReviewStatus

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)

ARABIC = "سلمى الحسيني"
CYRILLIC = "Алексей Иванов"
LATIN = "Zoë Ñúñez-Łukasiewicz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Handler:
    """Accepts everything, except the addresses in ``refuse`` (550) and, while ``delay`` is set,
    answers RCPT only after ``delay`` seconds (longer than the client's timeout)."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content)
        self.received.append(
            email.message_from_bytes(envelope.original_content, policy=default_policy)
        )
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def smtp(app, frozen_now):
    """A real SMTP server on 127.0.0.1 and the app configured to send to it."""
    frozen_now(NOW)
    handler = Handler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_USERNAME="",
        MAIL_TIMEOUT=0.5,
        MAIL_DEFAULT_SENDER="Secrétariat Pillars <pillars@test.example>",
    )
    yield handler
    handler.delay = 0
    controller.stop()


def _user(make, db, name: str, code: str = "KEN"):
    user = make.focal_point(code)
    user.display_name = name
    db.session.commit()
    return user


def _queue(db, user, *, review=None, commit=True):
    note = notifications.queue(
        user,
        "test",
        template="review_withdrawn",
        context={"state_name": "Kenya", "cycle_name": "2027 cycle", "reason": "", "link": ""},
        review=review,
    )
    if commit:
        db.session.commit()
    return note


def _reload(db, note_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, note_id)


def test_messages_are_delivered_after_the_commit_with_names_and_subjects_in_any_script(
    smtp, make, db
):
    cycle = make.cycle(name="Цикл 2027 — دورة")
    review = make.review("CIV", cycle=cycle)  # Côte d'Ivoire: an accented state name
    users = [_user(make, db, name, "CIV") for name in (ARABIC, CYRILLIC, LATIN)]
    for user in users:
        notifications.queue(
            user,
            "test",
            template="review_withdrawn",
            context={"state_name": review.state.name, "cycle_name": cycle.name, "reason": ""},
            review=review,
        )
    assert smtp.received == []  # nothing leaves before the commit
    db.session.commit()
    assert len(smtp.received) == 3
    by_address = {m["To"].addresses[0].addr_spec: m for m in smtp.received}
    for user in users:
        message = by_address[user.email]
        assert message["To"].addresses[0].display_name == user.display_name
        assert message["From"].addresses[0].display_name == "Secrétariat Pillars"
        assert message["Subject"] == "Review withdrawn: Côte d’Ivoire — Цикл 2027 — دورة"
        assert message.get_body(("plain",)).get_content().startswith(f"Dear {user.display_name},")
        assert "Côte d’Ivoire" in message.get_body(("html",)).get_content()
    for raw in smtp.raw:
        headers = raw.split(b"\r\n\r\n", 1)[0]
        assert headers.isascii()  # RFC 2047 encoded-words, no raw UTF-8 in headers
        assert b"=?utf-8?" in headers
    stored = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.status, n.attempts, n.last_error) for n in stored] == [("sent", 1, "")] * 3
    assert all(n.sent_at is not None and n.next_attempt_at is None for n in stored)


def test_a_refused_recipient_fails_only_its_message_with_the_servers_answer(smtp, make, db):
    good, bad, other = (_user(make, db, name) for name in ("Ana", "Bob", "Chloé"))
    smtp.refuse.add(bad.email)
    notes = [_queue(db, user, commit=False) for user in (good, bad, other)]
    db.session.flush()
    ids = [n.id for n in notes]
    db.session.commit()
    good_n, bad_n, other_n = (_reload(db, i) for i in ids)
    assert (good_n.status, other_n.status) == ("sent", "sent")
    assert bad_n.status == NotificationStatus.FAILED
    assert bad_n.last_error.startswith("550 5.1.1 <" + bad.email + ">")
    assert "User unknown" in bad_n.last_error
    assert bad_n.attempts == 1
    assert bad_n.next_attempt_at == NOW + timedelta(minutes=5)
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.received) == sorted(
        [good.email, other.email]
    )


def test_a_timeout_is_recorded_retried_with_back_off_then_sent(smtp, make, db, app):
    user, second = _user(make, db, CYRILLIC), _user(make, db, ARABIC)
    smtp.delay = 2.0  # longer than MAIL_TIMEOUT (0.5 s)
    first_note, second_note = _queue(db, user, commit=False), _queue(db, second, commit=False)
    db.session.flush()
    note_id, second_id = first_note.id, second_note.id
    db.session.commit()
    note = _reload(db, note_id)
    assert note.status == NotificationStatus.FAILED
    assert note.last_error == "timed out after 0.5 s"
    assert note.next_attempt_at == NOW + timedelta(minutes=5)
    # the server is unreachable: the second message was not made to wait too; still due
    waiting = _reload(db, second_id)
    assert (waiting.status, waiting.attempts) == ("queued", 0)

    smtp.delay = 0
    early = notifications.deliver_due(NOW + timedelta(minutes=4))
    assert (early.sent, early.failed) == (1, 0)  # the waiting one; the failed one backs off
    assert _reload(db, note_id).attempts == 1

    counts = notifications.deliver_due(NOW + timedelta(minutes=5))
    assert (counts.sent, counts.failed, counts.abandoned) == (1, 0, 0)
    note = _reload(db, note_id)
    assert (note.status, note.attempts, note.last_error) == ("sent", 2, "")
    assert [m["To"].addresses[0].display_name for m in smtp.received] == [ARABIC, CYRILLIC]


def test_back_off_grows_threefold_and_the_last_attempt_abandons(smtp, make, db, app):
    app.config["MAIL_MAX_ATTEMPTS"] = 4
    user = _user(make, db, LATIN)
    smtp.refuse.add(user.email)
    note_id = _queue(db, user).id
    waits = []
    when = NOW
    for _ in range(3):
        note = _reload(db, note_id)
        if note.next_attempt_at is None:
            break
        waits.append(note.next_attempt_at - when)
        when = note.next_attempt_at
        notifications.deliver_due(when)
    assert waits == [timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=45)]
    note = _reload(db, note_id)
    assert (note.status, note.attempts, note.next_attempt_at) == ("abandoned", 4, None)
    assert note.last_error.startswith("550 ")
    assert notifications.deliver_due(when + timedelta(days=30)).failed == 0


def test_a_rolled_back_step_writes_and_sends_nothing(smtp, make, db):
    user = _user(make, db, ARABIC)
    _queue(db, user, commit=False)
    db.session.rollback()
    db.session.commit()  # a later commit must not send the dropped message either
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert smtp.received == []


def test_a_refused_transition_queues_nothing(smtp, make, db):
    from werkzeug.exceptions import Forbidden

    secretariat = make.secretariat()
    fp = make.focal_point("KEN")
    review = make.review("KEN")
    with pytest.raises(Forbidden):
        apply_transition(fp, review, "withdraw", reason="no")  # only the secretariat may
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    apply_transition(secretariat, review, "withdraw", reason="The state left the regime.")
    assert [m["To"].addresses[0].addr_spec for m in smtp.received] == [fp.email]
    assert "The state left the regime." in smtp.received[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize("after_commit", [True, False])
def test_with_delivery_after_commit_off_a_transition_leaves_its_messages_to_outbox_send(
    smtp, make, db, app, after_commit
):
    app.config["MAIL_DELIVER_AFTER_COMMIT"] = after_commit
    secretariat = make.secretariat()
    fp = make.focal_point("KEN")
    other_fp = make.focal_point("KEN")
    review = make.review("KEN")
    apply_transition(secretariat, review, "withdraw", reason="The state left the regime.")
    db.session.expire_all()
    statuses = db.session.scalars(select(Notification.status).order_by(Notification.id)).all()
    sent = [m["To"].addresses[0].addr_spec for m in smtp.received]
    if after_commit:  # tried right after the step's commit
        assert statuses == [NotificationStatus.SENT] * 2
        assert sorted(sent) == sorted([fp.email, other_fp.email])
        return
    assert statuses == [NotificationStatus.QUEUED] * 2 and sent == []
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 2, failed 0 (will be retried), abandoned 0" in result.output
    db.session.expire_all()
    statuses = db.session.scalars(select(Notification.status)).all()
    assert statuses == [NotificationStatus.SENT] * 2
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.received) == sorted(
        [fp.email, other_fp.email]
    )
    assert "The state left the regime." in smtp.received[0].get_body(("plain",)).get_content()


def test_a_server_that_is_down_never_fails_the_step(app, make, db, frozen_now, login_as):
    frozen_now(NOW)
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    secretariat = make.secretariat()
    fp = make.focal_point("KEN")
    review = make.review("KEN")
    client = login_as(secretariat)
    response = client.post(
        f"/reviews/{review.id}/events/withdraw",
        data={"reason": "Withdrawn for the test.", "expected_status": "self_assessment"},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    db.session.expire_all()
    assert db.session.get(type(review), review.id).status == ReviewStatus.WITHDRAWN
    note = db.session.scalar(select(Notification).where(Notification.recipient_id == fp.id))
    assert note.status == NotificationStatus.FAILED
    assert "ConnectionRefusedError" in note.last_error


def test_outbox_send_command_prints_counts_and_sends_what_is_due(smtp, make, db, app):
    user = _user(make, db, "Dana")
    app.config["MAIL_BACKEND"] = "log"  # queued now, delivered by the command
    note_id = _queue(db, user).id
    app.config["MAIL_BACKEND"] = "smtp"
    db.session.execute(
        Notification.__table__.update().values(status="queued", attempts=0, sent_at=None)
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0 (will be retried), abandoned 0" in result.output
    assert _reload(db, note_id).status == NotificationStatus.SENT
    again = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "sent 0, failed 0" in again.output
    assert len(smtp.received) == 1


def test_a_message_claimed_by_another_sender_is_not_sent_twice(smtp, make, db, app):
    user = _user(make, db, "Eve")
    app.config["MAIL_BACKEND"] = "log"
    note_id = _queue(db, user).id
    app.config["MAIL_BACKEND"] = "smtp"
    # another run claimed it (attempt count moved on) between our read and our claim
    db.session.execute(
        Notification.__table__.update().values(status="queued", attempts=0, sent_at=None)
    )
    db.session.commit()
    with Session(db.engine) as session:
        stale = session.get(Notification, note_id)  # this sender read attempts = 0…
        assert stale.attempts == 0
        db.session.execute(Notification.__table__.update().values(attempts=1))
        db.session.commit()  # …and another run claimed it meanwhile
        counts = notifications._deliver_one(session, notifications.make_transport(), note_id, NOW)
    assert (counts.sent, counts.skipped) == (0, 1)
    assert smtp.received == []
