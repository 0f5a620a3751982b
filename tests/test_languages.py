"""Choosing the language, and e-mails in each recipient's own (issue 15, items 3 and 4).

A signed-in user's choice is stored on their account; before signing in the switcher's choice is
kept in the session; otherwise the browser's Accept-Language, then English. A Spanish-speaking
focal point receives Spanish mail while the secretariat gets theirs in English, both about the
same step.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Notification, User
from app.services.transitions import apply_transition


def _csrf(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_browsers_language_is_used_until_one_is_chosen(client):
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es" dir="ltr">' in page.get_data(as_text=True)
    page = client.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="en" dir="ltr">' in page.get_data(as_text=True)


def test_a_visitors_choice_on_the_switcher_is_kept_for_the_session(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    token = _csrf(client)
    response = client.post(
        "/language", data={"language": "ar", "next": "/public/", "csrf_token": token}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/public/")
    page = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_a_signed_in_users_choice_is_stored_on_the_account(make, db, client, login_as):
    fp = make.focal_point("KEN")
    login_as(fp)
    response = client.post("/language", data={"language": "ru", "next": "/home"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, fp.id).locale == "ru"
    # another browser, another Accept-Language: the account's choice wins
    other = client.application.test_client()
    login_as(fp, on=other)
    page = other.get("/home", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert '<html lang="ru"' in page


def test_a_language_that_is_not_offered_is_refused_with_a_message(make, db, client, login_as):
    fp = make.focal_point("KEN")
    login_as(fp)
    response = client.post(
        "/language", data={"language": "de", "next": "/home"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "That language is not offered here" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, fp.id).locale is None


def test_an_unsafe_next_address_is_not_followed(client):
    response = client.post("/language", data={"language": "fr", "next": "//evil.example/"})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_a_spanish_focal_point_gets_spanish_mail_and_the_secretariat_english(make, db):
    secretariat = make.secretariat()
    review = make.review("CRI")
    fp = make.focal_point("CRI")
    fp.locale = "es"
    secretariat.locale = "en"
    db.session.commit()
    from tests.factories import fill_required_answers

    fill_required_answers(db, review, fp)
    apply_transition(fp, review, "submit_self_assessment")
    apply_transition(secretariat, review, "return_self_assessment", reason="Falta la ley.")
    to_fp = db.session.scalars(select(Notification).where(Notification.recipient_id == fp.id)).all()
    to_secretariat = db.session.scalars(
        select(Notification).where(Notification.recipient_id == secretariat.id)
    ).all()
    assert to_fp and to_secretariat
    spanish = to_fp[-1]
    assert "autoevaluación" in spanish.subject
    assert re.search(r"autoevaluación", spanish.body_text, re.I), spanish.body_text
    assert "self-assessment" not in spanish.body_text.lower()
    english = to_secretariat[0]
    assert "self-assessment" in english.body_text.lower()


def test_a_deadline_in_an_email_is_written_in_the_recipients_language(make, db, app):
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from app.services.notification_rules import format_deadline

    deadline = format_deadline(datetime(2027, 3, 12, 20, 59, tzinfo=UTC), "Africa/Nairobi")
    with app.test_request_context(), force_locale("fr"):
        assert str(deadline) == "12 mars 2027, 23:59 (Africa/Nairobi)"
    with app.test_request_context(), force_locale("en"):
        assert str(deadline) == "12 Mar 2027, 23:59 (Africa/Nairobi)"


def test_states_are_named_and_sorted_in_the_readers_language(make, db, client, login_as):
    fp = make.focal_point("KEN")
    fp.locale = "fr"
    db.session.commit()
    login_as(fp)
    page = client.get("/states").get_data(as_text=True)
    names = re.findall(r"<tr><td>(?:<a [^>]*>)?([^<]+)", page)
    # the first page in French order: Afrique du Sud (South Africa) and Allemagne (Germany)
    # come near the top, Albanie before Algérie before Allemagne
    assert names[:3] == ["Afghanistan", "Afrique du Sud", "Albanie"]
    assert names.index("Algérie") < names.index("Allemagne")
