"""Notifications (issue 6): who hears what, privacy of the messages, de-duplication, the in-app
list and the secretariat's outbox (access, escaping, masking, retry, flat query counts).

The whole cycle's messages are checked through the screens in tests/test_full_cycle.py
(`everyone_was_told`); SMTP delivery in tests/test_smtp_delivery.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import Notification, NotificationStatus
from app.services import notification_rules, notifications
from app.services.transitions import apply_transition
from tests.test_dashboard import QueryCounter
from workflows import ASSIGNMENT, REVIEW, ReviewStatus

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def _notes(db, **where):
    query = select(Notification).order_by(Notification.id)
    for key, value in where.items():
        query = query.where(getattr(Notification, key) == value)
    db.session.expire_all()
    return db.session.scalars(query).all()


def _who(db, kind):
    return [n.recipient_id for n in _notes(db, kind=kind)]


# --- the rules table ---------------------------------------------------------------------------


def test_every_rule_names_a_real_event_audience_and_template():
    events = {
        # a mid-term report is generated without a status change (issue 16, item 7)
        "review": {spec.event for spec in REVIEW.specs} | {"midterm_report"},
        "assignment": {spec.event for spec in ASSIGNMENT.specs} | {"invite"},
    }
    for rule in notification_rules.RULES:
        lifecycle, event = rule.event.split(":")
        assert event in events[lifecycle], rule.event
        assert set(rule.audiences) <= set(notification_rules.AUDIENCES), rule
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (ROOT / "templates" / "email" / f"{rule.template}{suffix}").is_file()


def test_the_readme_table_is_the_code_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert notification_rules.markdown_table() in readme


def test_the_issue_events_are_all_in_the_table():
    kinds = {rule.kind for rule in notification_rules.RULES}
    assert {
        "invitation",
        "self_assessment_submitted",
        "self_assessment_returned",
        "team_complete",
        "evaluations_in",
        "factual_check",
        "report_adopted",
        "response_due",
        "progress_report_due",
        "escalation",
    } <= kinds


# --- who hears what, for the events the full cycle does not fire -------------------------------


def test_decline_conflict_reinstate_and_withdrawal_tell_the_right_people(make, db):
    secretariat = make.secretariat()
    other_secretariat = make.secretariat()
    review = make.review("KEN")
    fp = make.focal_point("KEN")
    first, second = make.reviewer("FRA"), make.reviewer("BRA")
    a1 = make.assignment(review, first, actor=secretariat)
    a2 = make.assignment(review, second, actor=secretariat)
    assert _who(db, "invitation") == [first.id, second.id]
    invitation = _notes(db, kind="invitation")[0]
    assert invitation.assignment_id == a1.id and invitation.review_id == review.id

    apply_transition(first, a1, "decline", reason="Travelling all spring.")
    apply_transition(second, a2, "declare_conflict", reason="I advised Kenya's ministry.")
    assert _who(db, "invitation_declined") == [secretariat.id, other_secretariat.id] * 2
    declined = _notes(db, kind="invitation_declined")[0]
    # the reason is for the secretariat's screens, not repeated by e-mail
    assert "Travelling" not in declined.body_text

    apply_transition(secretariat, a1, "reinstate", reason="Dates moved.")
    assert _who(db, "invitation") == [first.id, second.id, first.id]
    apply_transition(secretariat, a1, "withdraw_assignment", reason="Team changed.")
    assert _who(db, "assignment_withdrawn") == [first.id]
    assert fp.id not in {n.recipient_id for n in _notes(db)}


def test_team_complete_only_when_the_last_seat_is_filled(make, db, team):
    secretariat, review = team["secretariat"], team["review"]
    # the fixture's team was accepted directly; the cycle's team size is 2: add a third seat
    review.cycle.team_size = 3
    review.status = ReviewStatus.PEER_ASSIGNMENT
    db.session.commit()
    third = make.reviewer("POL")
    a3 = make.assignment(review, third, actor=secretariat)
    assert _who(db, "team_complete") == []
    apply_transition(third, a3, "accept", facts={"no_conflict": True})
    assert _who(db, "team_complete") == [secretariat.id]


def test_all_evaluations_in_only_after_the_last_submission(make, db, team):
    from tests.test_evaluation import submit_evaluation_directly

    secretariat = team["secretariat"]
    lead_a, member_a = team["lead_a"], team["member_a"]
    submit_evaluation_directly(db, member_a, team["member"])
    assert _who(db, "evaluations_in") == []
    submit_evaluation_directly(db, lead_a, team["lead"])
    assert _who(db, "evaluations_in") == [team["lead"].id, secretariat.id]
    apply_transition(secretariat, member_a, "return_evaluation", reason="Rate section 3 again.")
    returned = _notes(db, kind="evaluation_returned")
    assert [n.recipient_id for n in returned] == [team["member"].id]
    assert "Rate section 3 again." in returned[0].body_text


def test_inactive_people_get_nothing(make, db):
    secretariat = make.secretariat()
    review = make.review("KEN")
    fp, gone = make.focal_point("KEN"), make.focal_point("KEN")
    gone.active = False
    db.session.commit()
    apply_transition(secretariat, review, "withdraw", reason="Left the regime.")
    assert _who(db, "review_withdrawn") == [fp.id]


def test_messages_about_one_state_go_to_no_other_state(make, db):
    secretariat = make.secretariat()
    review = make.review("KEN")
    ken, gha = make.focal_point("KEN"), make.focal_point("GHA")
    apply_transition(secretariat, review, "withdraw", reason="Left the regime.")
    recipients = {n.recipient_id for n in _notes(db)}
    assert ken.id in recipients and gha.id not in recipients


def test_an_invitation_shows_state_cycle_and_deadlines_only(make, db):
    from tests.factories import fill_required_answers

    secretariat = make.secretariat()
    cycle = make.cycle(time_zone="Asia/Kathmandu")
    review = make.review("KEN", cycle=cycle)
    fp = make.focal_point("KEN")
    fill_required_answers(db, review, fp)
    db.session.commit()
    reviewer = make.reviewer("FRA")
    make.assignment(review, reviewer, actor=secretariat)
    note = _notes(db, kind="invitation")[0]
    text = note.body_text + note.body_html
    assert "Kenya" in text and cycle.name in text
    assert "(Asia/Kathmandu)" in note.body_text  # zone named (DESIGN §8)
    assert "+0545" not in text and fp.display_name not in text
    assert re.search(r"due by \d\d \w{3} 2027, \d\d:\d\d \(Asia/Kathmandu\)", note.body_text)


# --- queue(): dedupe, rollback, escaping ---------------------------------------------------------


def _queue(db, user, key=None, reason=""):
    return notifications.queue(
        user,
        "reminder",
        template="review_withdrawn",
        context={"state_name": "Kenya", "cycle_name": "2027 cycle", "reason": reason},
        dedupe_key=key,
    )


def test_a_dedupe_key_is_queued_once(make, db):
    fp = make.focal_point("KEN")
    key = "reminder:review:12:stage:evaluation:assignment:5:offset:-7d"
    assert _queue(db, fp, key) is not None
    db.session.commit()
    assert _queue(db, fp, key) is None
    db.session.commit()
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_html_bodies_escape_what_people_typed(make, db):
    fp = make.focal_point("KEN")
    _queue(db, fp, reason="<script>alert(1)</script> & co")
    db.session.commit()
    note = _notes(db)[0]
    assert "<script>" not in note.body_html and "&lt;script&gt;" in note.body_html
    assert "<script>alert(1)</script> & co" in note.body_text


# --- pages ---------------------------------------------------------------------------------------


def test_people_see_only_their_own_notifications(make, db, app, login_as):
    fp, other = make.focal_point("KEN"), make.focal_point("GHA")
    _queue(db, fp, reason="For Kenya only.")
    db.session.commit()
    mine = _notes(db)[0]
    client = login_as(fp, on=app.test_client())
    page = client.get("/notifications").get_data(as_text=True)
    assert mine.subject in page and '<span class="badge text-bg-warning">1' in page
    shown = client.get(f"/notifications/{mine.id}").get_data(as_text=True)
    assert "For Kenya only." in shown
    assert _notes(db)[0].read_at is not None  # opened: read
    assert "text-bg-warning" not in client.get("/notifications").get_data(as_text=True)

    # another state's focal point, a reviewer and the secretariat (which reads e-mails on the
    # outbox, not other people's in-app lists) are all refused, without learning it exists
    for person in (other, make.reviewer("NOR"), make.secretariat()):
        stranger = login_as(person, on=app.test_client())
        assert stranger.get(f"/notifications/{mine.id}").status_code == 404
        assert stranger.post(f"/notifications/{mine.id}/read").status_code == 404
        assert mine.subject not in stranger.get("/notifications").get_data(as_text=True)
    assert app.test_client().get("/notifications").status_code == 302  # sign in first


def test_mark_all_read_touches_only_ones_own(make, db, app, login_as):
    fp, other = make.focal_point("KEN"), make.focal_point("GHA")
    _queue(db, fp)
    _queue(db, other)
    db.session.commit()
    client = login_as(fp, on=app.test_client())
    assert client.post("/notifications/read").status_code == 302
    read = {n.recipient_id: n.read_at for n in _notes(db)}
    assert read[fp.id] is not None and read[other.id] is None


@pytest.mark.parametrize("who", ["focal_point", "reviewer", "anonymous"])
def test_the_outbox_is_for_the_secretariat_only(make, db, app, login_as, who):
    fp = make.focal_point("KEN")
    _queue(db, fp)
    db.session.commit()
    note = _notes(db)[0]
    client = app.test_client()
    if who != "anonymous":
        user = fp if who == "focal_point" else make.reviewer("FRA")
        login_as(user, on=client)
    for method, url in (
        ("GET", "/admin/outbox"),
        ("GET", f"/admin/outbox/{note.id}"),
        ("POST", f"/admin/outbox/{note.id}/retry"),
    ):
        response = client.open(url, method=method)
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, url


def test_the_outbox_lists_filters_shows_escaped_and_masks_secrets(make, db, app, login_as):
    secretariat = make.secretariat()
    fp = make.focal_point("KEN")
    _queue(db, fp, reason="<b>bold</b>")
    secret = notifications.queue(
        fp,
        "password_link",
        template="review_withdrawn",
        context={"state_name": "Kenya", "cycle_name": "c", "reason": "TOKEN-123"},
        secret=True,
    )
    db.session.commit()
    failed = _notes(db)[0]
    failed.status = NotificationStatus.FAILED
    failed.last_error = "550 5.1.1 <x@test.example>: User unknown"
    db.session.commit()
    client = login_as(secretariat, on=app.test_client())
    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert "550 5.1.1 &lt;x@test.example&gt;: User unknown" in listing
    only_failed = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Showing 1–1 of 1" in only_failed
    unknown = client.get("/admin/outbox?status=nonsense")
    assert unknown.status_code == 200 and "Unknown status" in unknown.get_data(as_text=True)
    shown = client.get(f"/admin/outbox/{failed.id}").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown and "<b>bold</b>" not in shown
    assert "&lt;!doctype html&gt;" in shown  # the HTML body as source, escaped
    masked = client.get(f"/admin/outbox/{secret.id}").get_data(as_text=True)
    assert "TOKEN-123" not in masked and "set-password link" in masked


def test_retry_now_sends_a_failed_message(make, db, app, login_as):
    secretariat = make.secretariat()
    fp = make.focal_point("KEN")
    _queue(db, fp)
    db.session.commit()
    note = _notes(db)[0]
    note.status, note.last_error = NotificationStatus.ABANDONED, "timed out after 10 s"
    db.session.commit()
    client = login_as(secretariat, on=app.test_client())
    response = client.post(f"/admin/outbox/{note.id}/retry", follow_redirects=True)
    assert "The message was sent." in response.get_data(as_text=True)
    note = _notes(db)[0]
    assert (note.status, note.last_error, note.attempts) == ("sent", "", 2)
    again = client.post(f"/admin/outbox/{note.id}/retry", follow_redirects=True)
    assert "Only a message that failed can be retried." in again.get_data(as_text=True)


def test_an_undelivered_invitation_is_flagged_on_the_review_team(make, db, app, login_as):
    secretariat = make.secretariat()
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    make.assignment(review, reviewer, actor=secretariat)
    note = _notes(db, kind="invitation")[0]
    client = login_as(secretariat, on=app.test_client())
    url = f"/admin/reviews/{review.id}/team"
    assert "Invitation not delivered" not in client.get(url).get_data(as_text=True)
    note.status, note.last_error = NotificationStatus.FAILED, "550 5.1.1 mailbox unavailable"
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Invitation not delivered" in page and "550 5.1.1 mailbox unavailable" in page
    assert f"/admin/outbox/{note.id}" in page
    review_page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Invitation not delivered" in review_page
    # the reviewer sees the review's summary, not the secretariat's delivery flags
    own = login_as(reviewer, on=app.test_client()).get(f"/reviews/{review.id}")
    assert own.status_code == 200 and "Invitation not delivered" not in own.get_data(as_text=True)


def test_outbox_and_notification_pages_have_flat_query_counts(make, db, app, login_as):
    secretariat = make.secretariat()
    fp = make.focal_point("KEN")
    admin = login_as(secretariat, on=app.test_client())
    reader = login_as(fp, on=app.test_client())

    def counts():
        with QueryCounter(db.engine) as outbox:
            assert admin.get("/admin/outbox").status_code == 200
        with QueryCounter(db.engine) as own:
            assert reader.get("/notifications").status_code == 200
        return outbox.count, own.count

    _queue(db, fp)
    db.session.commit()
    few = counts()
    for code in ("GHA", "BRA", "POL", "NOR", "FRA"):
        _queue(db, make.focal_point(code))
        _queue(db, fp)
    db.session.commit()
    assert counts() == few


def test_a_dedupe_race_is_stopped_by_the_unique_key(make, db, monkeypatch):
    """Two runs checked the key before either committed: the second insert meets the UNIQUE
    constraint. PostgreSQL: its SAVEPOINT is rolled back, `queue` returns None and the rest of
    the transaction commits. SQLite: the transaction fails and is rolled back (documented)."""
    from sqlalchemy.exc import IntegrityError

    fp = make.focal_point("KEN")
    key = "reminder:review:1:stage:evaluation:assignment:1:offset:-7d"
    assert _queue(db, fp, key) is not None
    db.session.commit()
    monkeypatch.setattr(notifications, "_key_taken", lambda _key: False)  # the race's blind spot
    other = make.focal_point("GHA")
    other.display_name = "Changed in the same transaction"
    if db.engine.dialect.name == "postgresql":
        assert _queue(db, fp, key) is None
        db.session.commit()
        db.session.expire_all()
        assert other.display_name == "Changed in the same transaction"
    else:
        _queue(db, fp, key)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert db.session.scalar(select(func.count(Notification.id))) == 1


@pytest.mark.parametrize("days", [1, 3])
def test_every_email_template_renders_as_with_flask_babels_own_gettext(app, days):
    """`queue` binds the translations once per message (`notifications._translators`); the
    text must be what the app's own gettext callables give: escaping in HTML, %-formatting,
    plurals."""
    from types import SimpleNamespace

    values = {
        "recipient": SimpleNamespace(display_name="Zoë <b>Ñúñez</b> & co"),
        "app_url": "https://pillars.example",
        "state_name": "Côte d'Ivoire <script>",
        "cycle_name": "2027 cycle & more",
        "link": "/reviews/1",
        "reason": "Because <i>late</i> 100%",
        "deadline": "1 Mar 2027, 23:59 (Africa/Nairobi)",
        "stage": "evaluation",
        "stage_label": "Evaluation",
        "days": days,
        "passed": False,
        "overdue_days": days,
        "task": "Submit your evaluation",
        "owed_by": [("Ann <x>", "Submit your evaluation")],
        "url": "https://pillars.example/set-password/abc",
        "expires": "2 days",
        "hours": days,
        "share": 60,  # enhanced_proposed (issue 17)
        "threshold": 50,
        "next_cycle_name": "2031 cycle & more",  # follow-up closed into the next cycle (issue 16)
        "carried": days,
        "version": days,  # a new mid-term report (issue 16)
    }
    names = sorted(p.name for p in (ROOT / "templates" / "email").glob("[!_]*"))
    assert len(names) >= 3 * len(notification_rules.RULES)
    with app.test_request_context():
        env = app.jinja_env
        for name in names:
            template = env.get_template(f"email/{name}")
            expected = template.render(values)
            assert (
                notifications._render(f"email/{name}", dict(values, **notifications._translators()))
                == expected
            ), name


def test_the_secretariat_is_looked_up_again_in_each_transaction(make, db):
    """`notify` reads the secretariat accounts once per transaction (session.info), never
    longer: an account added after a commit hears the next event."""
    first = make.secretariat()
    review = make.review("KEN")
    assert notification_rules.notify("review", "escalate", review, "Late.") >= 1
    db.session.commit()
    second = make.secretariat()
    db.session.commit()
    notification_rules.notify("review", "escalate", review, "Later.")
    db.session.commit()
    told = _who(db, "escalation")
    assert told.count(first.id) == 2 and told.count(second.id) == 1
