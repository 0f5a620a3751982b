"""Signed set-password links (invitations and resets): expiring, single-use, neutral about which
addresses have accounts; and the password policy (length, not the e-mail). Issue 7."""

from __future__ import annotations

import html
import logging
import re

import pytest
from sqlalchemy import select

from app.models import Notification, User
from app.services import password_links
from tests.factories import PASSWORD

NEW = "Kilimanjaro at dawn 2027"


def _link_from(page: str) -> str:
    match = re.search(r'<textarea[^>]*id="password-link"[^>]*>([^<]+)</textarea>', page)
    assert match, "no link on the page"
    return html.unescape(match.group(1)).strip()


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _set(client, link, password=NEW, confirm=None):
    return client.post(_path(link), data={"password": password, "confirm": confirm or password})


def _signs_in(app, user, password) -> bool:
    response = app.test_client().post("/login", data={"email": user.email, "password": password})
    return response.status_code == 302


def test_secretariat_copies_a_link_that_sets_the_password_once(app, db, make, login_as):
    user = make.focal_point("KEN")
    admin = login_as(make.secretariat(), on=app.test_client())
    page = admin.post(f"/admin/users/{user.id}/password-link")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    link = _link_from(page.get_data(as_text=True))
    assert _signs_in(app, user, PASSWORD)  # making a link changes nothing yet

    person = app.test_client()
    form = person.get(_path(link))
    assert form.status_code == 200 and user.email in form.get_data(as_text=True)
    assert _set(person, link).status_code == 302
    assert _signs_in(app, user, NEW) and not _signs_in(app, user, PASSWORD)

    again = app.test_client().get(_path(link))
    assert again.status_code == 404
    assert "already used" in again.get_data(as_text=True)
    assert _set(app.test_client(), link, "Another long password here").status_code == 404
    assert _signs_in(app, user, NEW)


def test_an_expired_link_is_refused(app, make):
    user = make.focal_point("KEN")
    token = password_links.make_token(user)
    app.config["PASSWORD_LINK_MAX_AGE"] = -1  # any age is past it
    response = app.test_client().get(f"/set-password/{token}")
    assert response.status_code == 404
    assert "expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "x" + t, lambda t: "abc"])
def test_a_tampered_link_is_refused(app, make, mangle):
    user = make.focal_point("KEN")
    token = mangle(password_links.make_token(user))
    response = app.test_client().post(
        f"/set-password/{token}", data={"password": NEW, "confirm": NEW}
    )
    assert response.status_code == 404
    assert _signs_in(app, user, PASSWORD)


def test_a_link_of_a_deactivated_account_is_refused(app, db, make):
    user = make.focal_point("KEN")
    token = password_links.make_token(user)
    user.active = False
    db.session.commit()
    assert app.test_client().get(f"/set-password/{token}").status_code == 404


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12 characters"),
        ("{local}-is-my-password", "must not be or contain the e-mail address"),
        ("{email}", "must not be or contain the e-mail address"),
    ],
)
def test_the_password_policy_applies_to_links_and_keeps_the_link_usable(
    app, make, password, message
):
    user = make.focal_point("KEN")
    link = f"http://x/set-password/{password_links.make_token(user)}"
    local = user.email.split("@")[0].upper()
    response = _set(app.test_client(), link, password.format(local=local, email=user.email))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _set(app.test_client(), link).status_code == 302  # the refusal did not use the link


def test_the_two_passwords_must_match(app, make):
    user = make.focal_point("KEN")
    link = f"http://x/set-password/{password_links.make_token(user)}"
    response = _set(app.test_client(), link, NEW, NEW + "!")
    assert response.status_code == 422
    assert "The two passwords differ." in response.get_data(as_text=True)


def test_forgot_password_answers_the_same_for_any_address_and_logs_only_real_links(
    app, db, make, caplog
):
    user = make.focal_point("KEN")
    answers = []
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for email in (user.email.upper(), "nobody@example.org"):
            client = app.test_client()
            response = client.post("/forgot-password", data={"email": email})
            assert response.status_code == 302 and response.headers["Location"] == "/login"
            answers.append(client.get("/login").get_data(as_text=True))
    # the same page but for the session's own CSRF token (the language switcher's form)
    same = [re.sub(r'name="csrf_token" value="[^"]*"', "", re.sub(r"\s+", " ", a)) for a in answers]
    assert same[0] == same[1]
    assert "If an active account uses this address" in answers[0]
    assert "has been sent to it by e-mail" in answers[0]
    # the link went to the outbox for the real account only, marked secret (issue 6)
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.recipient_id, n.kind, n.secret) for n in notes] == [
        (user.id, "password_reset", True)
    ]
    mailed = notes[0].body_text.split("/set-password/", 1)[1].split()[0]
    logged = [r.getMessage() for r in caplog.records if "set-password link" in r.getMessage()]
    assert len(logged) == 1 and user.email in logged[0]
    link = logged[0].rsplit(" ", 1)[1]
    assert link.endswith(f"/set-password/{mailed}")  # the same link, mailed and (dev) logged
    assert _set(app.test_client(), link).status_code == 302
    assert _signs_in(app, user, NEW)


def test_production_never_logs_the_link(app, make, caplog):
    user = make.focal_point("KEN")
    app.config["PASSWORD_LINKS_IN_LOG"] = False
    with caplog.at_level(logging.DEBUG):
        app.test_client().post("/forgot-password", data={"email": user.email})
    assert not [r for r in caplog.records if "set-password" in r.getMessage()]


def test_an_account_created_without_password_gets_an_invitation_link(app, db, make, login_as):
    admin = login_as(make.secretariat(), on=app.test_client())
    response = admin.post(
        "/admin/users/new",
        data={
            "email": "amani@example.org",
            "display_name": "Amani Wanjirū",
            "role": "focal_point",
            "state": str(make.state("KEN").id),
            "password": "",
        },
    )
    assert response.status_code == 200
    link = _link_from(response.get_data(as_text=True))
    user = db.session.scalar(select(User).where(User.email == "amani@example.org"))
    assert user is not None
    mailed = db.session.scalars(select(Notification).where(Notification.recipient_id == user.id))
    assert [(n.kind, n.secret) for n in mailed] == [("account_invitation", True)]
    assert _set(app.test_client(), link).status_code == 302
    assert _signs_in(app, user, NEW)


def test_an_initial_password_containing_the_email_is_refused(client, db, make, login_as):
    login_as(make.secretariat())
    response = client.post(
        "/admin/users/new",
        data={
            "email": "amani@example.org",
            "display_name": "Amani",
            "role": "focal_point",
            "state": str(make.state("KEN").id),
            "password": "Amani-password-2027",
        },
    )
    assert response.status_code == 422
    assert "must not be or contain the e-mail address" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "amani@example.org")) is None


def test_outsiders_cannot_make_links(app, make, login_as):
    user = make.focal_point("KEN")
    for who in (make.focal_point("KEN"), make.reviewer("NOR")):
        client = login_as(who, on=app.test_client())
        assert client.post(f"/admin/users/{user.id}/password-link").status_code == 403
    anonymous = app.test_client().post(f"/admin/users/{user.id}/password-link")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_a_mailed_link_is_never_shown_on_the_outbox_nor_logged_in_production(
    app, db, make, login_as, caplog
):
    user = make.focal_point("KEN")
    app.config["PASSWORD_LINKS_IN_LOG"] = False
    with caplog.at_level(logging.DEBUG):
        app.test_client().post("/forgot-password", data={"email": user.email})
    note = db.session.scalar(select(Notification).where(Notification.recipient_id == user.id))
    token = note.body_text.split("/set-password/", 1)[1].split()[0]
    assert note.status == "sent"  # delivered (to the log backend, without its body)
    assert not [r for r in caplog.records if token in r.getMessage()]
    admin = login_as(make.secretariat(), on=app.test_client())
    assert token not in admin.get(f"/admin/outbox/{note.id}").get_data(as_text=True)
    own = login_as(user, on=app.test_client())
    assert token not in own.get(f"/notifications/{note.id}").get_data(as_text=True)
