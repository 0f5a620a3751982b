"""Signing in and out."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


def test_wrong_password_is_refused_with_a_message_and_keeps_the_email(client, make):
    user = make.focal_point("KEN")
    response = client.post("/login", data={"email": user.email, "password": "nope"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "E-mail or password is not correct" in page
    assert user.email in page


def test_email_is_matched_case_insensitively(client, make):
    user = make.focal_point("KEN")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_inactive_account_cannot_sign_in(client, make, db):
    user = make.focal_point("KEN")
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/home").status_code == 302


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/reviews/1", "/reviews/1"),
        ("https://evil.example/", "/home"),
        ("//evil.example/", "/home"),
        ("/\\evil.example", "/home"),
    ],
)
def test_only_same_site_paths_are_followed_after_login(client, make, target, expected):
    user = make.focal_point("KEN")  # one step: the secretariat has a second one
    response = client.post(
        f"/login?next={target}", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logout_ends_the_session(client, make, login_as):
    login_as(make.secretariat())
    assert client.get("/home").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/home").status_code == 302


def test_anonymous_is_sent_to_login(client):
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
