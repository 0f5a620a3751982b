"""The evaluation page warns before leaving it with unsaved changes (issue 16, item 5), in
Chromium: nothing changed, no warning; a field changed, the browser asks before leaving; saving
(the form's own submit) never asks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import EvaluationSection
from workflows import AssignmentStatus, ReviewStatus

pytestmark = pytest.mark.e2e

ASSIGNMENT = re.compile(r"/assignments/\d+$")


def _evaluation_page(live, people):
    make = live.make
    secretariat = make.secretariat()
    review = make.review("KEN", make.cycle())
    reviewer = make.reviewer("BRA")
    assignment = make.assignment(
        review, reviewer, lead=True, status=AssignmentStatus.ACCEPTED, actor=secretariat
    )
    review.status = ReviewStatus.EVALUATION
    live.db.session.commit()
    page = people.page("reviewer", reviewer)
    seen: list[str] = []

    def answer(dialog):
        seen.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.goto(f"/assignments/{assignment.id}/evaluation")
    return page, seen


def test_leaving_unchanged_asks_nothing_and_leaving_changed_asks(live, people):
    page, seen = _evaluation_page(live, people)
    page.get_by_role("link", name="Your assignment").click()
    page.wait_for_url(ASSIGNMENT)
    assert seen == []

    page.go_back()
    page.get_by_label("Findings").first.fill("Typed and not saved.")
    page.get_by_role("link", name="Your assignment").click()
    page.wait_for_url(ASSIGNMENT)
    assert seen == ["beforeunload"]


def test_saving_a_section_or_the_page_never_asks(live, people):
    page, seen = _evaluation_page(live, people)
    page.get_by_label("Findings").first.fill("Saved with the section button.")
    page.get_by_role("button", name="Save this section").first.click()
    expect(page.get_by_text("Section 1 is saved.")).to_be_visible()
    assert seen == []
    assert "Saved with the section button." in live.read(select(EvaluationSection.findings))

    page.get_by_role("textbox", name="Overall summary").fill("A summary.")
    page.get_by_role("button", name="Save draft").first.click()
    expect(page.get_by_text("Your draft evaluation is saved.")).to_be_visible()
    assert seen == []
