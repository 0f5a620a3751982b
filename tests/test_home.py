"""Each role's home page lists what needs them now, and only their own reviews."""

from __future__ import annotations

from workflows import AssignmentStatus, ReviewStatus


def test_focal_point_home_lists_own_state_tasks_only(client, make, login_as, db):
    kenya = make.review("KEN")
    ghana = make.review("GHA", cycle=kenya.cycle)
    login_as(make.focal_point("KEN"))
    page = client.get("/home").get_data(as_text=True)
    assert "Complete and submit the self-assessment" in page
    assert f"/reviews/{kenya.id}/self-assessment" in page
    assert "Ghana" not in page
    assert f"/reviews/{ghana.id}" not in page


def test_reviewer_home_lists_the_invitation(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    page = client.get("/home").get_data(as_text=True)
    assert "Answer the invitation to review" in page
    assert f"/assignments/{assignment.id}" in page


def test_declined_reviewer_no_longer_sees_the_review(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, status=AssignmentStatus.DECLINED)
    login_as(reviewer)
    page = client.get("/home").get_data(as_text=True)
    assert "Kenya" not in page
    assert client.get(f"/reviews/{review.id}").status_code == 404


def test_secretariat_home_lists_screening(client, make, login_as, db):
    review = make.review("KEN")
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    login_as(make.secretariat())
    page = client.get("/home").get_data(as_text=True)
    assert "Screen the submitted self-assessment" in page
    assert "Kenya" in page


def test_review_page_shows_phase_and_only_the_viewers_actions(client, make, login_as, db):
    review = make.review("KEN")
    login_as(make.focal_point("KEN"))
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'aria-current="step">Self-assessment' in page
    assert "Submit self-assessment" in page
    assert "Withdraw review" not in page
    login_as(make.secretariat())
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Withdraw review" in page
    assert "Submit self-assessment" not in page


def test_reviewer_home_shows_their_part_on_each_review(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, lead=True, status=AssignmentStatus.ACCEPTED)
    login_as(reviewer)
    page = client.get("/home").get_data(as_text=True)
    assert "Your part" in page
    assert ">Accepted<" in page and ">Lead<" in page
    assert "(UTC)" in page  # the current deadline, in the cycle's zone
