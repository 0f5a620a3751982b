"""Confirmation before irreversible steps (issue 16, item 2), server side: every step the issue
lists carries its sentence (what happens, who is told, what can no longer change) on its button;
the no-JavaScript confirmation page shows it and posts the step's fields on unchanged; it follows
no target outside the site."""

from __future__ import annotations

import re

from app.web.confirm.routes import SENTENCES
from workflows import ReviewStatus

#: The steps issue 16 names, as (lifecycle, event).
LISTED = {
    ("review", "submit_self_assessment"),
    ("review", "accept_self_assessment"),
    ("review", "return_self_assessment"),
    ("assignment", "submit_evaluation"),
    ("review", "submit_draft_report"),
    ("review", "submit_factual_comments"),
    ("review", "submit_response"),
    ("review", "adopt_report"),
    ("cycle", "open_cycle"),
    ("cycle", "close_cycle"),
    ("review", "close_review"),
}


def test_every_listed_step_has_a_sentence_saying_what_can_no_longer_change():
    assert set(SENTENCES) >= LISTED
    for key, sentence in SENTENCES.items():
        assert "no longer" in sentence or "cannot" in sentence, key
        assert "told" in sentence or "see" in sentence or "e-mail" in sentence, key


def test_the_step_button_carries_the_sentence_and_the_fallback_page_posts_it_on(
    client, login_as, make, db
):
    review = make.review("KEN", make.cycle())
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    login_as(make.secretariat())
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    button = re.search(r"<button[^>]*data-confirm=\"([^\"]+)\"[^>]*>Accept self-assessment", page)
    assert button and "The self-assessment of Kenya is accepted" in button.group(1)
    assert 'formaction="/confirm"' in button.group(0)
    form = re.search(r"<form[^>]*accept_self_assessment.*?</form>", page, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    confirm = client.post("/confirm", data=fields)
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "The self-assessment of Kenya is accepted" in text
    assert f'action="/reviews/{review.id}/events/accept_self_assessment"' in text
    db.session.expire_all()
    assert review.status == ReviewStatus.SCREENING  # the page changed nothing
    onward = dict(re.findall(r'name="(\w+)" value="([^"]*)"', text))
    assert onward["expected_status"] == "screening"
    done = client.post(f"/reviews/{review.id}/events/accept_self_assessment", data=onward)
    assert done.status_code == 302
    db.session.expire_all()
    assert review.status == ReviewStatus.PEER_ASSIGNMENT


def test_the_confirmation_page_follows_no_target_outside_the_site(client, login_as, make):
    login_as(make.secretariat())
    for target in ("https://evil.example/x", "//evil.example/x", "", "javascript:alert(1)"):
        response = client.post("/confirm", data={"_confirm_action": target})
        assert response.status_code == 400, target
