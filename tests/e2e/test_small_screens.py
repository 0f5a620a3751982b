"""Phones and small screens (issue 16, item 9), in Chromium at 375 px wide: no main page of a
focal point or a peer reviewer scrolls sideways; the progress tracker wraps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Assignment
from tests.factories import prepared_review
from workflows import AssignmentStatus, ReviewStatus

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 800}


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize(
    "status", [ReviewStatus.SELF_ASSESSMENT, ReviewStatus.EVALUATION, ReviewStatus.FOLLOW_UP]
)
def test_no_page_of_a_focal_point_or_reviewer_scrolls_sideways_at_375px(live, people, status):
    prepared = prepared_review(live.make)
    review = prepared.review
    review.status = status
    lead = prepared.identities["lead_reviewer"]
    if status == ReviewStatus.EVALUATION:
        for a in live.db.session.scalars(select(Assignment)):
            a.status = AssignmentStatus.ACCEPTED  # evaluations open for editing
    live.db.session.commit()
    lead_assignment = live.one(select(Assignment.id).where(Assignment.reviewer_id == lead.id))
    r = review.id
    pages = {
        "focal_point": [
            "/home",
            f"/reviews/{r}",
            f"/reviews/{r}/self-assessment",
            f"/reviews/{r}/self-assessment/1",
            f"/reviews/{r}/draws",
            "/notifications",
        ],
        "lead_reviewer": ["/home", f"/reviews/{r}", f"/assignments/{lead_assignment}"],
    }
    if status == ReviewStatus.FOLLOW_UP:
        pages["focal_point"] += [f"/reviews/{r}/report", f"/reviews/{r}/follow-up"]
        pages["lead_reviewer"] += [f"/reviews/{r}/report"]
    if status == ReviewStatus.EVALUATION:
        pages["lead_reviewer"] += [f"/assignments/{lead_assignment}/evaluation"]
    wide = []
    for who, urls in pages.items():
        page = people.page(who, prepared.identities[who], viewport=PHONE)
        for url in urls:
            response = page.goto(url)
            if response.status != 200:
                continue  # not open to them in this status: nothing to lay out
            if _overflow(page) > 0:
                wide.append(f"{who} {url}: {_overflow(page)} px too wide")
    assert wide == []
