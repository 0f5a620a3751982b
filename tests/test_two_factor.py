"""Two-factor sign-in (issue 14): enrolment with a server-drawn QR code and the key in text,
recovery codes shown once and usable once, the secretariat's requirement, no replay of a code,
rate limits, reset by another secretariat member, and remember-me after a password change."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from app.models import AccountEvent, RecoveryCode, Role, User
from app.services import two_factor
from tests.conftest import TEST_TOTP_SECRET

PASSWORD = "correct-horse-battery"
NOW = datetime(2027, 3, 1, 9, 0, 0, tzinfo=UTC)


def _sign_in(client, user, **extra):
    return client.post("/login", data={"email": user.email, "password": PASSWORD, **extra})


def _code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrolled(db, user, secret: str = TEST_TOTP_SECRET) -> User:
    two_factor.enrol_with_secret(user, secret)
    db.session.commit()
    return user


def test_a_secretariat_account_reaches_only_the_enrolment_page_until_enrolled(
    app, client, make, db, frozen_now
):
    frozen_now(NOW)
    user = make.secretariat()
    response = _sign_in(client, user)
    assert response.headers["Location"].endswith("/account/two-factor")
    for url in ("/home", "/admin/users", "/admin/audit", "/notifications"):
        blocked = client.get(url)
        assert blocked.status_code == 302 and blocked.headers["Location"].endswith(
            "/account/two-factor"
        ), url
    page = client.get("/account/two-factor")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<svg" in body and "https://" not in body.split("<svg", 1)[1].split("</svg>")[0]
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    assert two_factor.grouped(secret) in body  # the key in text, to type
    assert (
        client.get("/account/two-factor").get_data(as_text=True).count(two_factor.grouped(secret))
    )  # a reload shows the same key
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422 and "does not match" in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"code": _code(secret, NOW)})
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert done.headers["Cache-Control"] == "no-store"
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed only
    assert client.get("/home").status_code == 200
    assert "Your recovery codes" not in client.get("/account/two-factor").get_data(as_text=True)


def test_sign_in_asks_for_the_code_and_a_code_cannot_be_replayed(app, make, db, frozen_now):
    frozen_now(NOW)
    user = _enrolled(db, make.secretariat())
    first, second = app.test_client(), app.test_client()
    assert _sign_in(first, user).headers["Location"].endswith("/login/code")
    assert first.get("/home").status_code == 302  # not signed in before the second step
    code = _code(TEST_TOTP_SECRET, NOW)
    assert first.post("/login/code", data={"code": code}).status_code == 302
    assert first.get("/home").status_code == 200
    # the same code, seen over the shoulder, within its window: refused
    _sign_in(second, user)
    replay = second.post("/login/code", data={"code": code})
    assert replay.status_code == 422 and "already used" in replay.get_data(as_text=True)
    assert second.get("/home").status_code == 302
    # the next step's code works
    frozen_now(NOW + timedelta(seconds=30))
    later = second.post(
        "/login/code", data={"code": _code(TEST_TOTP_SECRET, NOW + timedelta(seconds=30))}
    )
    assert later.status_code == 302 and second.get("/home").status_code == 200
    kinds = db.session.scalars(select(AccountEvent.kind).order_by(AccountEvent.id)).all()
    assert kinds.count("sign_in") == 2 and kinds.count("sign_in_failed") == 1


def test_a_recovery_code_works_once(app, make, db, frozen_now, client):
    frozen_now(NOW)
    user = make.focal_point("KEN")
    _sign_in(client, user)
    client.get("/account/two-factor")
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    page = client.post("/account/two-factor", data={"code": _code(secret, NOW)})
    code = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", page.get_data(as_text=True))[0]
    other = app.test_client()
    _sign_in(other, user)
    used = other.post("/login/code", data={"code": code.upper().replace("-", " ")})
    assert used.status_code == 302
    assert "9 left" in other.get("/home").get_data(as_text=True)
    third = app.test_client()
    _sign_in(third, user)
    assert third.post("/login/code", data={"code": code}).status_code == 422


def test_the_second_step_is_rate_limited_like_passwords(template_db):
    from app import create_app
    from app.extensions import db as _db
    from config import TestConfig
    from tests.factories import Factories

    config = type(
        "Config",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": template_db(),
            "RATELIMIT_ENABLED": True,
            "LOGIN_RATE_LIMIT": "3 per minute",
        },
    )
    app = create_app(config)
    with app.app_context():
        user = _enrolled(_db, Factories(_db).secretariat())
        client = app.test_client()
        _sign_in(client, user)
        answers = [
            client.post("/login/code", data={"code": "123456"}).status_code for _ in range(4)
        ]
        assert answers == [422, 422, 422, 429]
        _db.session.remove()
        _db.engine.dispose()


def test_remember_me_never_skips_the_second_factor_after_a_password_change(
    app, make, db, frozen_now
):
    frozen_now(NOW)
    user = _enrolled(db, make.secretariat())
    client = app.test_client()
    _sign_in(client, user, remember="y")
    client.post("/login/code", data={"code": _code(TEST_TOTP_SECRET, NOW)})
    remember = client.get_cookie("remember_token")
    assert remember is not None
    user = db.session.get(User, user.id)
    user.set_password("another-long-password")
    db.session.commit()
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/home").status_code == 302  # back to the sign-in page
    # the password alone does not sign in either: the second step is asked again
    step = thief.post("/login", data={"email": user.email, "password": "another-long-password"})
    assert step.headers["Location"].endswith("/login/code")


def test_another_secretariat_member_resets_a_second_factor_with_a_reason(
    app, make, db, login_as, frozen_now
):
    frozen_now(NOW)
    admin = make.secretariat()
    lost = _enrolled(db, make.focal_point("KEN"))
    client = login_as(admin)
    url = f"/admin/users/{lost.id}/two-factor/reset"
    refused = client.post(url, data={"reason": " "})
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    done = client.post(url, data={"reason": "Phone stolen, ticket 42"}, follow_redirects=True)
    assert "was removed" in done.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, lost.id).has_two_factor
    event = db.session.scalar(select(AccountEvent).where(AccountEvent.kind == "two_factor_reset"))
    assert (event.subject_id, event.actor_id) == (lost.id, admin.id)
    assert event.detail == {"reason": "Phone stolen, ticket 42"}
    # nobody resets their own (login_as enrolled the admin)
    assert (
        client.post(f"/admin/users/{admin.id}/two-factor/reset", data={"reason": "x"}).status_code
        == 403
    )


def test_the_secretariat_requires_a_second_factor_per_role(app, make, db, login_as, frozen_now):
    frozen_now(NOW)
    client = login_as(make.secretariat())
    response = client.post("/admin/two-factor", data={"required-reviewer": "y"})
    assert response.status_code == 302
    assert two_factor.requirements() == {
        Role.SECRETARIAT: True,
        Role.REVIEWER: True,
        Role.FOCAL_POINT: False,
        Role.PARTNER: False,
        Role.STAKEHOLDER: False,
    }
    reviewer, focal_point = make.reviewer("FRA"), make.focal_point("KEN")
    other = app.test_client()
    assert _sign_in(other, reviewer).headers["Location"].endswith("/account/two-factor")
    assert other.get("/home").status_code == 302
    third = app.test_client()
    assert _sign_in(third, focal_point).headers["Location"].endswith("/home")
    assert (
        db.session.scalar(
            select(func.count()).where(AccountEvent.kind == "two_factor_policy_changed")
        )
        == 1
    )


def test_development_does_not_require_it_of_the_demo_secretariat_but_production_does(app):
    from config import Config, ProductionConfig

    assert Config.TWO_FACTOR_REQUIRED_FOR_SECRETARIAT is False
    assert ProductionConfig.TWO_FACTOR_REQUIRED_FOR_SECRETARIAT is True
    assert app.config["TWO_FACTOR_REQUIRED_FOR_SECRETARIAT"] is True


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_codes_are_refused_without_an_error_page(app, make, db, code, frozen_now):
    frozen_now(NOW)
    user = _enrolled(db, make.secretariat())
    client = app.test_client()
    _sign_in(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 422
