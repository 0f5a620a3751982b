"""Smaller inconsistencies of issue 16 (item 10): a refusal lists every missing question;
notifications and the outbox show times in the review's cycle zone like every other page; the
action category carries its meaning; public pages link to sign-in."""

from __future__ import annotations

from app.services import notifications
from workflows.review import all_required_answers_given


def test_a_refusal_lists_every_missing_question_not_the_first_twelve():
    codes = [f"Q-{n}" for n in range(1, 29)]
    refusal = all_required_answers_given({"missing_required": codes})
    assert refusal is not None
    listed = refusal.params["codes"].split(", ")
    assert listed == codes and refusal.params["count"] == 28


def test_notifications_and_the_outbox_show_times_in_the_cycle_zone(make, db, app, login_as):
    cycle = make.cycle(time_zone="Africa/Nairobi")
    review = make.review("KEN", cycle)
    fp = make.focal_point("KEN")
    note = notifications.queue(
        fp,
        "reminder",
        template="review_withdrawn",
        context={"state_name": "Kenya", "cycle_name": cycle.name, "reason": "x"},
        review=review,
    )
    db.session.commit()
    client = login_as(fp, on=app.test_client())
    for url in ("/notifications", f"/notifications/{note.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "(Africa/Nairobi)" in page and "(UTC)" not in page, url
    admin = login_as(make.secretariat(), on=app.test_client())
    for url in ("/admin/outbox", f"/admin/outbox/{note.id}"):
        page = admin.get(url).get_data(as_text=True)
        assert "(Africa/Nairobi)" in page, url


def test_public_pages_link_to_sign_in(client):
    page = client.get("/public/").get_data(as_text=True)
    assert 'href="/login"' in page and "Sign in" in page
