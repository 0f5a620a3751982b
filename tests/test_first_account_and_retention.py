"""The first secretariat account from the command line, the retention pass, and what backups
hold (issue 14)."""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db as _db
from app.models import AccountEvent, Notification, NotificationStatus, Role, User
from app.services import notifications, password_links
from config import ProductionConfig
from tests.test_access_walk import _prepare
from workflows import ReviewStatus

PASSWORD = "Kilimanjaro at dawn 2027"


@pytest.fixture
def production(template_db, tmp_path):
    config = type(
        "Config",
        (ProductionConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": template_db(),
            "SECRET_KEY": uuid.uuid4().hex,
            "MAIL_BACKEND": "log",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        },
    )
    app = create_app(config)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


def _create(app, *args, text=None):
    return app.test_cli_runner().invoke(
        args=["users", "create-secretariat", *args], input=text, catch_exceptions=False
    )


def test_the_first_secretariat_account_is_created_under_the_production_config(production):
    result = _create(
        production, "Head@Example.org", "--name", "Amina Diallo", text=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "secretariat account created: head@example.org" in result.output
    user = _db.session.scalar(select(User).where(User.email == "head@example.org"))
    assert user.role == Role.SECRETARIAT and user.check_password(PASSWORD)
    event = _db.session.scalar(select(AccountEvent).where(AccountEvent.kind == "account_created"))
    assert event.subject_id == user.id and event.actor_id is None
    assert event.detail["via"] == "command line"
    # signing in leads to the enrolment of the second factor: required in production
    client = production.test_client()
    page = client.get("/login", base_url="https://p.example").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post(
        "/login",
        data={"email": "head@example.org", "password": PASSWORD, "csrf_token": token},
        base_url="https://p.example",
        headers={"Referer": "https://p.example/login"},
    )
    assert answer.headers["Location"].endswith("/account/two-factor")


def test_the_command_refuses_an_existing_email_a_weak_or_mismatched_password(production):
    assert (
        _create(
            production, "a@example.org", "--name", "A", text=f"{PASSWORD}\n{PASSWORD}\n"
        ).exit_code
        == 0
    )
    again = _create(production, "A@example.org", "--name", "B", text=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code != 0 and "already exists" in again.output
    weak = _create(production, "b@example.org", "--name", "B", text="short\nshort\n")
    assert weak.exit_code != 0 and "12" in weak.output
    mismatch = _create(
        production,
        "c@example.org",
        "--name",
        "C",
        text=f"{PASSWORD}\nother one\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert "do not match" in mismatch.output and mismatch.exit_code == 0  # asked again
    broken = _create(
        production, "d@example.org", "--name", "Line\nbreak", text=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert broken.exit_code != 0 and "line break" in broken.output
    assert _db.session.scalar(select(User).where(User.email == "d@example.org")) is None


def test_send_link_mails_a_link_and_says_what_became_of_it(production, monkeypatch):
    result = _create(production, "link@example.org", "--name", "Link Person", "--send-link")
    assert result.exit_code == 0, result.output
    assert "e-mailed to link@example.org" in result.output
    note = _db.session.scalar(select(Notification))
    assert note.secret and note.status == NotificationStatus.SENT
    assert "/set-password/" in note.body_text

    class Refusing(notifications.Transport):
        def send(self, message, *, secret=False):
            return "550 5.1.1 User unknown"

    monkeypatch.setattr(notifications, "make_transport", Refusing)
    refused = _create(production, "nobody@example.org", "--name", "Nobody", "--send-link")
    assert refused.exit_code != 0 and "550 5.1.1 User unknown" in refused.output


def _note(db, user, *, secret=False, status=NotificationStatus.SENT, sent_at=None, body="Text"):
    note = Notification(
        recipient_id=user.id,
        kind="test",
        subject="Subject kept",
        body_text=body,
        body_html=f"<p>{body}</p>",
        created_at=sent_at or datetime.now(UTC),
        status=status,
        attempts=1,
        sent_at=sent_at,
        last_error="",
        secret=secret,
    )
    db.session.add(note)
    return note


def test_retention_removes_old_bodies_and_dead_links_and_keeps_the_delivery_record(
    app, make, db, runner
):
    user, other = make.focal_point("KEN"), make.focal_point("GHA")
    now = datetime.now(UTC)
    with app.test_request_context():
        live_link = password_links.link_for(other)
        used_link = password_links.link_for(user)
    old = _note(db, user, sent_at=now - timedelta(days=200), body="Old news")
    recent = _note(db, user, sent_at=now - timedelta(days=10), body="Recent news")
    queued = _note(db, user, status=NotificationStatus.QUEUED, body="Waiting")
    live = _note(db, other, secret=True, sent_at=now, body=f"Open {live_link}")
    used = _note(db, user, secret=True, sent_at=now, body=f"Open {used_link}")
    db.session.commit()
    user.set_password("Another long password 1")  # the link is used / void
    db.session.commit()
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 old messages and 1 set-password links" in result.output
    assert "1 links still usable kept" in result.output
    db.session.expire_all()
    assert "removed by the retention pass" in db.session.get(Notification, old.id).body_text
    assert "removed by the retention pass" in db.session.get(Notification, used.id).body_html
    assert used_link not in db.session.get(Notification, used.id).body_text
    for kept, text in ((recent, "Recent news"), (queued, "Waiting"), (live, live_link)):
        assert text in db.session.get(Notification, kept.id).body_text
    stripped = db.session.get(Notification, old.id)
    assert (stripped.subject, stripped.status, stripped.sent_at is not None) == (
        "Subject kept",
        NotificationStatus.SENT,
        True,
    )
    again = runner.invoke(args=["retention", "run"])
    assert "the text of 0 old messages and 0 set-password links" in again.output


def test_a_backup_never_holds_a_live_set_password_link(app, make, db, runner, tmp_path):
    user = make.focal_point("KEN")
    with app.test_request_context():
        link = password_links.link_for(user)
    _note(db, user, secret=True, body=f"Open {link}")
    db.session.commit()
    path = tmp_path / "b.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    with zipfile.ZipFile(path) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert link.rsplit("/", 1)[1].encode() not in everything
    rows = json.loads(zipfile.ZipFile(path).read("tables/notification.json"))
    assert "set-password link" in rows[0]["body_text"]


def test_a_backup_names_a_missing_evidence_file_and_fails_unless_allowed(
    app, make, db, runner, tmp_path
):
    prepared = _prepare(make, db, ReviewStatus.FOLLOW_UP)
    (tmp_path / "uploads" / prepared.file.storage_key).unlink()
    path = tmp_path / "b.zip"
    refused = runner.invoke(args=["backup", str(path)])
    assert refused.exit_code != 0
    assert (
        prepared.file.original_name in refused.output and "--allow-missing-files" in refused.output
    )
    assert not path.exists()
    allowed = runner.invoke(args=["backup", str(path), "--allow-missing-files"])
    assert allowed.exit_code == 0 and path.exists()
    assert prepared.file.original_name in allowed.output  # named as a warning
