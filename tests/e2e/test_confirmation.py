"""Confirmation before an irreversible step (issue 16, item 2), in Chromium: the step's button
opens a modal dialog saying what will happen; a keyboard user cancels with Escape (nothing
happens, focus back on the button) and confirms with the keyboard; without JavaScript the same
button leads to a confirmation page whose "Yes" takes the step."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Review
from workflows import ReviewStatus

pytestmark = pytest.mark.e2e

SENTENCE = "The self-assessment of Kenya is accepted"


def _screening_review(live):
    make = live.make
    review = make.review("KEN", make.cycle())
    review.status = ReviewStatus.SCREENING
    live.db.session.commit()
    return review.id


def _status(live, review_id):
    return str(live.one(select(Review.status).where(Review.id == review_id)))


def test_a_keyboard_user_cancels_then_confirms_an_irreversible_step(live, people):
    review_id = _screening_review(live)
    page = people.page("secretariat", live.make.secretariat())
    page.goto(f"/reviews/{review_id}")
    button = page.get_by_role("button", name="Accept self-assessment", exact=True)
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Please confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(SENTENCE)
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    assert _status(live, review_id) == ReviewStatus.SCREENING  # nothing happened

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Yes, Accept self-assessment")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _status(live, review_id) == ReviewStatus.PEER_ASSIGNMENT


def test_without_javascript_the_step_goes_through_a_confirmation_page(live, people, browser):
    review_id = _screening_review(live)
    secretariat = live.make.secretariat()
    context = browser.new_context(base_url=live.url, java_script_enabled=False)
    people.contexts.append(context)
    page = context.new_page()
    from tests.e2e.conftest import sign_in_as

    sign_in_as(page, secretariat)  # with the secretariat's second step
    page.goto(f"/reviews/{review_id}")
    page.get_by_role("button", name="Accept self-assessment", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Please confirm")
    expect(page.locator("#confirm-sentence")).to_contain_text(SENTENCE)
    assert _status(live, review_id) == ReviewStatus.SCREENING
    page.get_by_role("button", name="Yes, Accept self-assessment").click()
    page.wait_for_load_state()
    assert _status(live, review_id) == ReviewStatus.PEER_ASSIGNMENT
