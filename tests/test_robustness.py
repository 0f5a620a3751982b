"""Failures a real user could meet: stale sessions, bad input, workflow edges — never a 500,
never a leak, never lost text."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app import create_app
from app.models import Assignment, Review, TransitionLog
from config import TestConfig
from tests.factories import PASSWORD, prepared_review
from workflows import AssignmentStatus, ReviewStatus

# --- sessions ------------------------------------------------------------------------------


def test_sign_out_ends_a_copied_session_cookie(app, make, login_as):
    user = make.focal_point("KEN")
    first = login_as(user, on=app.test_client())
    stolen = first.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", stolen)
    assert other.get("/home").status_code == 200
    first.post("/logout")
    assert other.get("/home").status_code == 302


def test_remember_me_cookie_dies_with_sign_out(app, make):
    user = make.focal_point("KEN")
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    remembered = client.get_cookie("remember_token").value
    client.post("/logout")
    restored = app.test_client()
    restored.set_cookie("remember_token", remembered)
    assert restored.get("/home").status_code == 302


def test_a_new_password_ends_existing_sessions(app, db, make, login_as):
    user = make.focal_point("KEN")
    client = login_as(user, on=app.test_client())
    assert client.get("/home").status_code == 200
    user.set_password("another-long-password")
    db.session.commit()
    assert client.get("/home").status_code == 302


# --- input that used to answer 500 -----------------------------------------------------------


def test_ids_beyond_the_database_range_are_404(client, make, login_as):
    login_as(make.secretariat())
    for url in ("/reviews/99999999999999999999", "/reviews/2147483648", "/assignments/2147483648"):
        assert client.get(url).status_code == 404


def test_nul_characters_are_dropped_from_typed_text(client, db, make, login_as):
    prepared = prepared_review(make)
    login_as(prepared.identities["secretariat"])
    response = client.post(
        f"/reviews/{prepared.review.id}/events/withdraw",
        data={"expected_status": "self_assessment", "reason": "State left\x00 the regime."},
    )
    assert response.status_code == 302
    log = db.session.scalar(select(TransitionLog).where(TransitionLog.event == "withdraw"))
    assert log.reason == "State left the regime."


def test_a_cycle_starting_in_year_9999_is_refused_with_a_message(client, make, login_as):
    login_as(make.secretariat())
    page = client.get("/admin/cycles/new").get_data(as_text=True)
    assert "Start date" in page
    data = {
        "name": "Far cycle",
        "framework": "1",
        "starts_on": "9999-12-31",
        "time_zone": "Europe/Zurich",
        "self_assessment_days": "90",
        "evaluation_days": "90",
        "factual_check_days": "30",
        "response_days": "60",
        "follow_up_days": "365",
        "team_size": "2",
    }
    response = client.post("/admin/cycles/new", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    assert "The start date must be between 2000 and 2100" in body
    assert "Far cycle" in body


def test_an_expired_form_shows_back_what_was_typed(template_db, make):
    class CsrfConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = template_db()
        WTF_CSRF_ENABLED = True

    app = create_app(CsrfConfig)
    with app.app_context():
        client = app.test_client()
        response = client.post(
            "/login", data={"email": "x@example.org", "password": "secret words here"}
        )
        assert response.status_code == 400
        assert "secret words" not in response.get_data(as_text=True)
        response = client.post(
            "/reviews/1/events/withdraw",
            data={"reason": "A long explanation that must not be lost."},
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Your session expired" in body
        assert "A long explanation that must not be lost." in body


# --- workflow edges --------------------------------------------------------------------------


def test_reasons_need_visible_text(client, db, make, login_as):
    prepared = prepared_review(make)
    login_as(prepared.identities["secretariat"])
    response = client.post(
        f"/reviews/{prepared.review.id}/events/withdraw",
        data={"expected_status": "self_assessment", "reason": "\u200b \u200d"},
    )
    assert response.status_code == 422
    assert "Please give a reason" in response.get_data(as_text=True)


def _lead_assignment(db, review):
    return db.session.scalar(
        select(Assignment).where(Assignment.review_id == review.id, Assignment.is_lead)
    )


def test_evaluations_cannot_be_returned_after_the_evaluation_phase(client, db, make, login_as):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.CLOSED
    db.session.commit()
    member = db.session.scalar(
        select(Assignment).where(Assignment.review_id == review.id, ~Assignment.is_lead)
    )
    login_as(prepared.identities["lead_reviewer"])
    page = client.get(f"/assignments/{member.id}/evaluation/view").get_data(as_text=True)
    assert "Return evaluation" not in page
    response = client.post(
        f"/assignments/{member.id}/events/return_evaluation",
        data={"expected_status": "submitted", "reason": "Please redo."},
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Assignment, member.id).status == AssignmentStatus.SUBMITTED


def test_a_withdrawn_review_is_closed_to_its_reviewers(client, db, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    invited = make.assignment(review, reviewer)
    accepted_reviewer = make.reviewer("POL")
    make.assignment(review, accepted_reviewer, status=AssignmentStatus.ACCEPTED)
    review.status = ReviewStatus.WITHDRAWN
    db.session.commit()
    login_as(reviewer)
    assert "Kenya" not in client.get("/home").get_data(as_text=True)
    response = client.post(
        f"/assignments/{invited.id}/events/accept",
        data={"expected_status": "invited", "no_conflict": "y"},
    )
    assert response.status_code == 404
    login_as(accepted_reviewer)
    assert client.get(f"/reviews/{review.id}/self-assessment").status_code == 404
    assert client.get(f"/reviews/{review.id}").status_code == 404


def test_a_declared_conflict_is_honoured_in_the_next_cycle(client, db, make, login_as):
    secretariat = make.secretariat()
    first = make.review("GHA")
    reviewer = make.reviewer("KEN")
    make.assignment(first, reviewer, status=AssignmentStatus.CONFLICTED, actor=secretariat)
    next_cycle = make.cycle("2029 cycle", starts_on=date(2029, 1, 1))
    second = make.review("GHA", cycle=next_cycle)
    login_as(secretariat)
    response = client.post(
        f"/admin/reviews/{second.id}/team",
        data={"reviewer": str(reviewer.id), "justification": "Regional expertise."},
    )
    assert "declared a conflict of interest with Ghana" in response.get_data(as_text=True)
    assert db.session.scalar(select(Assignment).where(Assignment.review_id == second.id)) is None
    db.session.expire_all()
    assert db.session.get(Review, second.id).status == ReviewStatus.SELF_ASSESSMENT


def test_reinstating_a_former_reviewer_who_is_now_a_focal_point_is_refused(
    client, db, make, login_as
):
    from app.models import Role

    secretariat = make.secretariat()
    review = make.review("PHL")
    person = make.reviewer("DZA")
    assignment = make.assignment(
        review, person, status=AssignmentStatus.WITHDRAWN, actor=secretariat
    )
    person.role = Role.FOCAL_POINT
    db.session.commit()
    login_as(secretariat)
    response = client.post(
        f"/assignments/{assignment.id}/events/reinstate", data={"expected_status": "withdrawn"}
    )
    assert response.status_code == 422
    assert "no longer an active peer reviewer" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).status == AssignmentStatus.WITHDRAWN


def test_reviews_of_a_cycle_in_planning_are_not_yet_open_to_the_state(client, db, make, login_as):
    cycle = make.cycle("Planned cycle", open_=False)
    review = make.review("DZA", cycle=cycle)
    focal_point = make.focal_point("DZA")
    login_as(focal_point)
    assert "Complete and submit the self-assessment" not in client.get("/home").get_data(
        as_text=True
    )
    saved = client.post(
        f"/reviews/{review.id}/self-assessment/2",
        data={"SEC-1-narrative": "Typed before the cycle opened."},
    )
    assert saved.status_code in (403, 409)
    from app.models import Answer

    assert (
        db.session.scalar(
            select(Answer).where(Answer.narrative == "Typed before the cycle opened.")
        )
        is None
    )
    response = client.post(
        f"/reviews/{review.id}/events/submit_self_assessment",
        data={"expected_status": "self_assessment"},
    )
    assert response.status_code in (403, 422)
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == ReviewStatus.SELF_ASSESSMENT


def test_a_review_of_a_closed_cycle_cannot_be_reopened(client, db, make, login_as):
    from workflows import CycleStatus

    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.CLOSED
    review.cycle.status = CycleStatus.CLOSED
    db.session.commit()
    login_as(prepared.identities["secretariat"])
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert f'/reviews/{review.id}/events/reopen"' not in page  # no button (the diagram names it)
    response = client.post(
        f"/reviews/{review.id}/events/reopen",
        data={"expected_status": "closed", "reason": "New facts."},
    )
    assert response.status_code == 422
    assert "cycle is closed" in response.get_data(as_text=True)


def test_leaving_evaluation_closes_open_invitations_and_logs_each(client, db, make, login_as):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    late = make.reviewer("IND")
    invitation = make.assignment(review, late, actor=prepared.identities["secretariat"])
    login_as(prepared.identities["lead_reviewer"])
    response = client.post(
        f"/reviews/{review.id}/events/submit_draft_report",
        data={"expected_status": "evaluation"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, invitation.id).status == AssignmentStatus.WITHDRAWN
    log = db.session.scalar(
        select(TransitionLog).where(
            TransitionLog.subject_type == "assignment",
            TransitionLog.subject_id == invitation.id,
            TransitionLog.event == "withdraw_assignment",
        )
    )
    assert "left the evaluation phase" in log.reason
    login_as(late)
    assert "Kenya" not in client.get("/home").get_data(as_text=True)
    assert client.get(f"/assignments/{invitation.id}").status_code == 404


def test_withdrawing_a_review_closes_its_open_assignments(client, db, make, login_as):
    review = make.review("KEN")
    secretariat = make.secretariat()
    invited = make.assignment(review, make.reviewer("BRA"), actor=secretariat)
    accepted = make.assignment(
        review, make.reviewer("POL"), status=AssignmentStatus.ACCEPTED, actor=secretariat
    )
    login_as(secretariat)
    response = client.post(
        f"/reviews/{review.id}/events/withdraw",
        data={"expected_status": "self_assessment", "reason": "The state left the regime."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    for assignment in (invited, accepted):
        assert db.session.get(Assignment, assignment.id).status == AssignmentStatus.WITHDRAWN


def test_a_constraint_refusal_is_a_409_with_the_typed_text_not_a_500(app, make, login_as):
    from sqlalchemy.exc import IntegrityError

    @app.route("/_test/integrity", methods=["POST"])
    def _integrity():
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    client = login_as(make.secretariat(), on=app.test_client())
    response = client.post("/_test/integrity", data={"note": "Text typed by the official."})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Someone acted first" in body
    assert "Text typed by the official." in body
    assert client.get("/home").status_code == 200  # the next request on the worker works


def test_closing_a_cycle_names_the_unfinished_reviews(client, db, make, login_as):
    review = make.review("KEN")
    make.review("GHA", cycle=review.cycle)
    login_as(make.secretariat())
    response = client.post(
        f"/admin/cycles/{review.cycle_id}/events/close_cycle", data={"expected_status": "open"}
    )
    assert response.status_code == 422
    assert "2 reviews are neither closed nor withdrawn: Ghana, Kenya." in response.get_data(
        as_text=True
    )
