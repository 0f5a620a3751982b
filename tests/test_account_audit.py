"""The account audit log (issue 14): every sign-in, failure, sign-out, password, link, role,
state, activation and second-factor event, with who, on whom, when and from where; append-only;
the secretariat's page with filters and CSV export; never a credential in it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import AccountEvent, Role, User
from app.models.account_event import AppendOnly
from app.services import account_audit
from tests.conftest import IS_PG
from tests.test_password_links import NEW, _link_from, _set

PASSWORD = "correct-horse-battery"
NOW = datetime(2027, 3, 1, 22, 30, tzinfo=UTC)


def _events(db) -> list[AccountEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AccountEvent).order_by(AccountEvent.id)).all()


def _kinds(db) -> list[str]:
    return [e.kind for e in _events(db)]


def test_sign_ins_failures_and_sign_outs_are_recorded_with_the_address(app, make, db):
    user = make.focal_point("KEN")
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": "wrong guess"})
    client.post("/login", data={"email": "nobody@example.org", "password": "wrong guess"})
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/logout")
    user.active = False
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    events = _events(db)
    assert [(e.kind, e.detail.get("reason")) for e in events] == [
        ("sign_in_failed", "wrong_password"),
        ("sign_in_failed", "unknown_account"),
        ("sign_in", None),
        ("sign_out", None),
        ("sign_in_failed", "inactive"),
    ]
    assert events[1].subject_id is None and events[1].detail["email"] == "nobody@example.org"
    assert events[2].subject_id == user.id and events[2].actor_id == user.id
    assert all(e.address == "127.0.0.1" for e in events)


def test_the_address_is_the_client_seen_behind_the_proxy(template_db):
    from app import create_app
    from app.extensions import db as _db
    from config import TestConfig
    from tests.factories import Factories

    config = type(
        "Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": template_db(), "PROXY_COUNT": 1}
    )
    app = create_app(config)
    with app.app_context():
        user = Factories(_db).focal_point("KEN")
        app.test_client().post(
            "/login",
            data={"email": user.email, "password": "nope"},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert _db.session.scalar(select(AccountEvent.address)) == "203.0.113.9"
        _db.session.remove()
        _db.engine.dispose()


def test_account_changes_by_the_secretariat_are_recorded(app, make, db, login_as):
    admin = make.secretariat()
    client = login_as(admin)
    start = len(_events(db))
    client.post(
        "/admin/users/new",
        data={
            "email": "new@example.org",
            "display_name": "New Person",
            "role": "reviewer",
            "state": str(make.state("KEN").id),
        },
    )
    person = db.session.scalar(select(User).where(User.email == "new@example.org"))

    def save(**changes):
        from app.services.admin import account_version

        db.session.expire_all()
        data = {
            "display_name": person.display_name,
            "role": person.role.value,
            "state": str(person.state_id or ""),
            "base_version": account_version(person),
            "active": "y" if person.active else "",
        }
        data.update(changes)
        return client.post(f"/admin/users/{person.id}/edit", data=data)

    assert save(state=str(make.state("GHA").id)).status_code == 302
    assert save(role="focal_point").status_code == 302
    assert save(active="").status_code == 302
    assert save(active="y", new_password="Kilimanjaro at dusk 2031").status_code == 302
    client.post(f"/admin/users/{person.id}/password-link")
    events = _events(db)[start:]
    assert [(e.kind, e.detail.get("from"), e.detail.get("to")) for e in events] == [
        ("account_created", None, None),
        ("link_issued", None, None),
        ("state_changed", "KEN", "GHA"),
        ("role_changed", "reviewer", "focal_point"),
        ("deactivated", None, None),
        ("reactivated", None, None),
        ("password_reset", None, None),
        ("link_issued", None, None),
    ]
    assert {(e.subject_id, e.actor_id) for e in events} == {(person.id, admin.id)}


def test_passwords_set_through_links_and_links_asked_for_are_recorded(app, make, db, login_as):
    user = make.focal_point("KEN")
    app.test_client().post("/forgot-password", data={"email": user.email})
    admin = login_as(make.secretariat(), on=app.test_client())
    link = _link_from(admin.post(f"/admin/users/{user.id}/password-link").get_data(as_text=True))
    assert _set(app.test_client(), link).status_code == 302
    kinds = [(e.kind, e.subject_id) for e in _events(db) if e.subject_id == user.id]
    assert kinds == [("link_issued", user.id), ("link_issued", user.id), ("password_set", user.id)]
    everything = json.dumps(
        [[e.kind, e.detail, e.address] for e in _events(db)], ensure_ascii=False
    )
    token = link.rsplit("/", 1)[1]
    for secret in (NEW, PASSWORD, token):
        assert secret not in everything


def test_the_log_is_append_only_and_refuses_credentials(app, make, db):
    user = make.focal_point("KEN")
    event = account_audit.record("sign_out", subject=user, actor=user)
    db.session.commit()
    event.kind = "sign_in"
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AccountEvent, event.id))
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    for key in ("password", "recovery_code", "token", "set_password_url"):
        with pytest.raises(ValueError, match="credentials"):
            account_audit.record("sign_in", subject=user, actor=user, detail={key: "x"})
    with pytest.raises(ValueError, match="unknown"):
        account_audit.record("made_up", subject=user, actor=user)


def test_the_page_filters_shows_times_in_the_viewers_zone_and_exports_csv(
    app, make, db, login_as, frozen_now
):
    frozen_now(NOW)
    admin = make.secretariat()
    user = make.focal_point("KEN")
    app.test_client().post("/login", data={"email": user.email, "password": "wrong guess"})
    client = login_as(admin)
    page = client.get("/admin/audit?kind=sign_in_failed&tz=Asia/Tokyo").get_data(as_text=True)
    assert user.email in page and "wrong password" in page
    assert "2 Mar 2027, 07:30" in page or "02 Mar 2027, 07:30" in page  # 22:30 UTC in Tokyo
    assert "Asia/Tokyo" in page
    assert admin.email not in page  # the admin's own sign-in is filtered out
    assert "No event matches" in client.get("/admin/audit?account=zzz").get_data(as_text=True)
    assert user.email in client.get("/admin/audit?from=2027-03-01&to=2027-03-01&tz=UTC").get_data(
        as_text=True
    )
    assert "No event matches" in client.get("/admin/audit?from=2027-03-03").get_data(as_text=True)
    assert client.get("/admin/audit?tz=Mars/Olympus").status_code == 200
    export = client.get("/admin/audit.csv?kind=sign_in_failed&tz=Asia/Tokyo")
    assert export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["time (UTC)", "time", "event"]
    assert rows[1][0] == "2027-03-01T22:30:00+00:00" and "07:30" in rows[1][1]
    assert rows[1][3] == user.email and "wrong password" in rows[1][6]
    assert len(rows) == 2


@pytest.mark.parametrize("role", [Role.FOCAL_POINT, Role.REVIEWER])
def test_only_the_secretariat_reads_the_log(app, make, db, login_as, role):
    user = make.focal_point("KEN") if role == Role.FOCAL_POINT else make.reviewer("FRA")
    client = login_as(user)
    for url in ("/admin/audit", "/admin/audit.csv", "/admin/two-factor"):
        assert client.get(url).status_code == 403, url


def test_the_log_survives_on_postgresql_too(app, make, db):
    """The JSON detail filter works on both databases (e-mail typed in a failed sign-in)."""
    app.test_client().post("/login", data={"email": "Ghost@Example.org", "password": "x"})
    found = db.session.scalars(account_audit.events_query(account="ghost@")).unique().all()
    assert [e.detail["email"] for e in found] == ["ghost@example.org"], IS_PG
