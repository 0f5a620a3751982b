"""Plain words and a status that never contradicts itself (issue 16, items 3 and 4).

Every review status × role: the focal point and the reviewers read one "What happens next"
sentence for their role, the same on the review page and on the home page, and never the
secretariat's table of events and guards; the secretariat keeps that table, folded. Once the
state sent its factual-accuracy comments, no page offers to send them again and both pages say
they were sent. After a step, the message says what happened and what comes next."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete

from app.models import TransitionLog
from app.services import guidance
from tests.factories import prepared_review
from workflows import ReviewStatus

R = ReviewStatus
ENGINE_WORDS = ("Possible next steps", "guard", "Guard", "submit_", "_follow_up")


def _next_step(page: str) -> str:
    match = re.search(r'id="next-step">.*?<p class="mb-0">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else ""


def _home_step(page: str) -> str:
    match = re.search(r'<div class="text-muted next-step">(.*?)</div>', page, re.S)
    return match.group(1).strip() if match else ""


def _unescape(text: str) -> str:
    return text.replace("&#39;", "'").replace("&amp;", "&")


def _expected(role: str, status: R, comments_sent: bool) -> str:
    if role == "focal_point":
        key = "comments_sent" if status == R.FACTUAL_CHECK and comments_sent else status
        return guidance.FOCAL_POINT[key]
    if status == R.EVALUATION:
        return guidance.REVIEWER["lead" if role == "lead" else "submitted"]
    if status in (R.PEER_ASSIGNMENT, R.FACTUAL_CHECK):
        return guidance.REVIEWER[status]
    return guidance.REVIEWER["done"]


STATUSES = [s for s in R if s not in (R.SELF_ASSESSMENT, R.SCREENING, R.WITHDRAWN)]


@pytest.mark.parametrize("status", list(R))
@pytest.mark.parametrize("role", ["focal_point", "lead", "member"])
def test_review_page_and_home_page_say_the_same_next_step_for_each_status_and_role(
    app, client, db, make, login_as, status, role
):
    prepared = prepared_review(make)
    prepared.review.status = status
    db.session.commit()
    user = {
        "focal_point": prepared.identities["focal_point"],
        "lead": prepared.identities["lead_reviewer"],
        "member": prepared.identities["member_reviewer"],
    }[role]
    login_as(user)
    response = client.get(f"/reviews/{prepared.review.id}")
    if role != "focal_point" and status == R.WITHDRAWN:
        assert response.status_code == 404  # nothing of a withdrawn review stays open to them
        return
    page = response.get_data(as_text=True)
    home = client.get("/home").get_data(as_text=True)
    if role != "focal_point" and status in (R.SELF_ASSESSMENT, R.SCREENING):
        assert 'id="next-step"' not in page
        return
    expected = _expected(role, status, comments_sent=True)
    assert _unescape(_next_step(page)) == expected
    assert _unescape(_home_step(home)) == expected
    visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", page, flags=re.S)
    for word in ENGINE_WORDS:
        assert word not in visible, word
    if role == "focal_point":  # the history names no reviewer to the state (DESIGN §5)
        for reviewer in ("lead_reviewer", "member_reviewer"):
            assert prepared.identities[reviewer].display_name not in page
    if status == R.FACTUAL_CHECK and role == "focal_point":
        assert "Send factual-accuracy comments</button>" not in page
        report = client.get(f"/reviews/{prepared.review.id}/report").get_data(as_text=True)
        assert 'id="comments-sent"' in report
        assert "Send factual-accuracy comments</button>" not in report
        assert "Check the draft report for factual accuracy" not in home  # no task left


def test_before_the_comments_are_sent_the_focal_point_is_asked_to_send_them_once(
    client, db, make, login_as
):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = R.FACTUAL_CHECK
    db.session.execute(
        delete(TransitionLog).where(TransitionLog.event == "submit_factual_comments")
    )
    db.session.commit()
    login_as(prepared.identities["focal_point"])
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert _unescape(_next_step(page)) == guidance.FOCAL_POINT[R.FACTUAL_CHECK]
    assert "Send factual-accuracy comments</button>" in page
    sent = client.post(
        f"/reviews/{review.id}/events/submit_factual_comments",
        data={"expected_status": "factual_check"},
        follow_redirects=True,
    )
    text = _unescape(sent.get_data(as_text=True))
    assert guidance.AFTER_STEP["submit_factual_comments"] in text
    assert _unescape(_next_step(text)) == guidance.FOCAL_POINT["comments_sent"] or (
        "Send factual-accuracy comments"
        not in client.get(f"/reviews/{review.id}").get_data(as_text=True)
    )
    again = client.post(
        f"/reviews/{review.id}/events/submit_factual_comments",
        data={"expected_status": "factual_check"},
    )
    assert again.status_code in (403, 422)
    assert "already sent" in again.get_data(as_text=True) or again.status_code == 403


def test_the_secretariat_keeps_the_next_steps_table_folded(client, db, make, login_as):
    prepared = prepared_review(make)
    prepared.review.status = R.FACTUAL_CHECK
    db.session.commit()
    login_as(prepared.identities["secretariat"])
    page = client.get(f"/reviews/{prepared.review.id}").get_data(as_text=True)
    assert re.search(r'<details[^>]*id="next-steps-table">\s*<summary>Possible next steps', page)
    assert 'id="next-step"' not in page


def test_the_progress_tracker_names_the_factual_check(client, db, make, login_as):
    prepared = prepared_review(make)
    prepared.review.status = R.FACTUAL_CHECK
    db.session.commit()
    login_as(prepared.identities["focal_point"])
    page = client.get(f"/reviews/{prepared.review.id}").get_data(as_text=True)
    assert re.search(r'aria-current="step">Evaluation and factual check<', page)


def test_the_focal_points_home_asks_for_the_publication_decision_until_it_is_made(
    client, db, make, login_as
):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = R.RESPONSE
    db.session.commit()
    login_as(prepared.identities["focal_point"])
    home = client.get("/home").get_data(as_text=True)
    assert "Decide what of the adopted report may be published" in home
    assert f"/reviews/{review.id}/publication" in home
    response = client.post(f"/reviews/{review.id}/publication", data={"level": "summary"})
    assert response.status_code == 302
    home = client.get("/home").get_data(as_text=True)
    assert "Decide what of the adopted report may be published" not in home
