"""Faults found when Pillars was tried as a new user would (issue 14, section 6): each test
failed before its fix."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Notification, NotificationStatus, Role, TransitionLog, User
from app.services import notifications
from app.services.admin import SetupError, check_display_name
from workflows import ReviewStatus


def test_focal_points_never_see_who_reviewed_them_in_the_history(app, db, make, team, login_as):
    review, lead = team["review"], team["lead"]
    lead.display_name = "Zebulon Lead-Reviewer"
    review.status = ReviewStatus.FACTUAL_CHECK
    db.session.add(
        TransitionLog(
            subject_type="review",
            subject_id=review.id,
            event="submit_draft_report",
            from_state="evaluation",
            to_state="factual_check",
            actor_id=lead.id,
        )
    )
    db.session.commit()
    focal_point = make.focal_point("KEN")
    page = login_as(focal_point).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Submit draft report" in page  # the step is in the history...
    assert "Zebulon" not in page  # ...without the reviewer's name
    assert "the review team" in page
    report = app.test_client()
    login_as(focal_point, on=report)
    assert "Zebulon" not in report.get(f"/reviews/{review.id}/report").get_data(as_text=True)
    # the secretariat and the team still see who acted
    for viewer in (team["secretariat"], team["member"]):
        seen = login_as(viewer, on=app.test_client()).get(f"/reviews/{review.id}")
        assert "Zebulon" in seen.get_data(as_text=True)


@pytest.mark.parametrize("name", ["Ada\nLovelace", "Ada\rLovelace", "Ada\r\nLovelace", "A\u2028B"])
def test_display_names_with_line_breaks_are_refused(name):
    with pytest.raises(SetupError, match="line break"):
        check_display_name(name)


def test_the_account_form_refuses_a_name_with_a_line_break_and_keeps_the_typing(make, db, login_as):
    client = login_as(make.secretariat())
    response = client.post(
        "/admin/users/new",
        data={
            "email": "new.person@example.org",
            "display_name": "Ada\r\nBcc: victim@example.org",
            "role": "secretariat",
            "password": "a-long-enough-password",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "line break" in page and "new.person@example.org" in page
    assert db.session.scalar(select(User).where(User.email == "new.person@example.org")) is None


def test_a_message_that_cannot_be_built_fails_and_the_pass_goes_on(app, make, db):
    broken = make.focal_point("KEN")
    fine = make.focal_point("GHA")
    broken.display_name = "Ada\nLovelace"  # stored before names were checked
    db.session.commit()
    app.config["MAIL_DELIVER_AFTER_COMMIT"] = False
    for person in (broken, fine):
        notifications.queue(
            person,
            "test",
            template="password_reset",
            context={"link": "", "hours": 48, "set_password_url": "x"},
        )
    db.session.commit()
    counts = notifications.deliver_due(notifications.clock.now())
    assert (counts.sent, counts.failed) == (1, 1)
    notes = {n.recipient_id: n for n in db.session.scalars(select(Notification))}
    assert notes[fine.id].status == NotificationStatus.SENT
    assert notes[broken.id].status == NotificationStatus.FAILED
    assert "could not be built" in notes[broken.id].last_error


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, "was sent to new.person@example.org"),
        ("550 5.1.1 <new.person@example.org>: User unknown", "refused"),
        ("queued", "is queued for new.person@example.org"),
    ],
)
def test_creating_an_account_says_what_became_of_the_link(
    app, make, db, login_as, monkeypatch, answer, expected
):
    if answer == "queued":
        app.config["MAIL_DELIVER_AFTER_COMMIT"] = False
    else:

        class Answering(notifications.Transport):
            def send(self, message, *, secret=False):
                return answer

        monkeypatch.setattr(notifications, "make_transport", Answering)
    client = login_as(make.secretariat())
    response = client.post(
        "/admin/users/new",
        data={"email": "new.person@example.org", "display_name": "New", "role": "secretariat"},
    )
    page = response.get_data(as_text=True)
    assert expected in page
    if answer and answer != "queued":
        assert "User unknown" in page and "was sent" not in page


def test_the_csrf_token_of_the_anonymous_session_is_refused_after_sign_in(app, make, db):
    make.user(Role.FOCAL_POINT, "KEN")
    user = db.session.scalar(select(User).where(User.role == Role.FOCAL_POINT))
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    signed_in = client.post(
        "/login",
        data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
    )
    assert signed_in.status_code == 302
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 400
    page = client.get("/notifications").get_data(as_text=True)
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert fresh != token
    assert client.post("/notifications/read", data={"csrf_token": fresh}).status_code == 302


def test_self_assessment_answers_are_limited_and_the_typing_is_kept(make, db, login_as):
    review = make.review("KEN")
    client = login_as(make.focal_point("KEN"))
    url = f"/reviews/{review.id}/self-assessment/1"
    page = client.get(url).get_data(as_text=True)
    field = re.search(r'name="([A-Z]+-\d+-narrative)"', page).group(1)
    text = "word " * 10_001 + "THE-END"
    response = client.post(url, data={field: text, "save": "Save draft"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "at most 50000" in body and "THE-END" in body
    from app.models import Answer

    assert db.session.scalar(select(Answer).where(Answer.narrative.contains("THE-END"))) is None
