"""The same frame on every page of a review: the five-phase tracker with the current phase."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Assignment
from tests.factories import prepared_review
from workflows import AssignmentStatus, ReviewStatus


@pytest.mark.parametrize(
    ("status", "current"),
    [
        (ReviewStatus.EVALUATION, "Evaluation and factual check"),
        (ReviewStatus.FOLLOW_UP, "Follow-up"),
    ],
)
def test_every_review_page_shows_the_phase_tracker(client, db, make, login_as, status, current):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = status
    db.session.commit()
    r = f"/reviews/{review.id}"
    lead_a = db.session.scalar(
        select(Assignment).where(Assignment.reviewer_id == prepared.identities["lead_reviewer"].id)
    )
    pages = {
        "secretariat": [r, f"{r}/self-assessment", f"{r}/self-assessment/3", f"{r}/report"],
        "lead_reviewer": [f"/assignments/{lead_a.id}", f"/assignments/{lead_a.id}/evaluation/view"],
    }
    if status == ReviewStatus.EVALUATION:
        lead_a.status = AssignmentStatus.ACCEPTED
        db.session.commit()
        pages["lead_reviewer"] = [f"/assignments/{lead_a.id}/evaluation", f"{r}/report/edit"]
    else:
        pages["focal_point"] = [f"{r}/response", f"{r}/follow-up", f"{r}/report"]
    for who, urls in pages.items():
        login_as(prepared.identities[who])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            page = response.get_data(as_text=True)
            assert page.count('class="phase-tracker"') == 1, (who, url)
            assert f'aria-current="step">{current}</li>' in page, (who, url)


def test_an_invited_reviewer_does_not_see_the_phase_of_the_review(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "Invitation to review Kenya" in page and "phase-tracker" not in page
