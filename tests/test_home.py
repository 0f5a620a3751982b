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
    # the buttons are forms posting to the event (the workflow diagram names every event)
    submit, withdraw = (
        f'/reviews/{review.id}/events/{e}"' for e in ("submit_self_assessment", "withdraw")
    )
    assert 'aria-current="step">Self-assessment' in page
    assert submit in page
    assert withdraw not in page
    login_as(make.secretariat())
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert withdraw in page
    assert submit not in page


def test_reviewer_home_shows_their_part_on_each_review(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, lead=True, status=AssignmentStatus.ACCEPTED)
    login_as(reviewer)
    page = client.get("/home").get_data(as_text=True)
    assert "Your part" in page
    assert ">Accepted<" in page and ">Lead<" in page
    assert "(UTC)" in page  # the current deadline, in the cycle's zone


def test_a_returned_self_assessment_shows_why_to_the_focal_point(client, make, login_as, db):
    from app.services.transitions import apply_transition
    from tests.factories import fill_required_answers

    review = make.review("KEN")
    focal_point = make.focal_point("KEN")
    secretariat = make.secretariat()
    fill_required_answers(db, review, focal_point)
    apply_transition(focal_point, review, "submit_self_assessment")
    apply_transition(
        secretariat, review, "return_self_assessment", reason="Add the 2026 budget law (ECO-2)."
    )
    login_as(focal_point)
    home = client.get("/home").get_data(as_text=True)
    assert "Revise and resubmit the self-assessment" in home
    overview = client.get(f"/reviews/{review.id}/self-assessment").get_data(as_text=True)
    assert "Returned by the secretariat on" in overview
    assert "Add the 2026 budget law (ECO-2)." in overview


def test_the_report_page_says_when_the_state_sent_its_comments(client, make, login_as, db):
    from sqlalchemy import delete

    from app.models import TransitionLog
    from tests.factories import prepared_review

    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.FACTUAL_CHECK
    db.session.execute(
        delete(TransitionLog).where(TransitionLog.event == "submit_factual_comments")
    )
    db.session.commit()
    login_as(prepared.identities["focal_point"])
    page = client.get(f"/reviews/{review.id}/report").get_data(as_text=True)
    assert "The state sent its factual-accuracy comments on" not in page
    assert "Check the draft report for factual accuracy" in client.get("/home").get_data(
        as_text=True
    )
    sent = client.post(
        f"/reviews/{review.id}/events/submit_factual_comments",
        data={"expected_status": "factual_check"},
    )
    assert sent.status_code == 302
    page = client.get(f"/reviews/{review.id}/report").get_data(as_text=True)
    assert "The state sent its factual-accuracy comments on" in page
    assert "Check the draft report for factual accuracy" not in client.get("/home").get_data(
        as_text=True
    )
