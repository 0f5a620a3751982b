"""A peer reviewer's invitation, evaluation form and evaluation view (DESIGN §4 Assignment, §5)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.models import (
    Assignment,
    Evaluation,
    EvaluationSection,
    FrameworkSection,
    ProposedRecommendation,
    TransitionLog,
)
from app.services.transitions import apply_transition
from workflows import AssignmentStatus, ReviewStatus

A = AssignmentStatus
R = ReviewStatus


def sections(db, review) -> list[FrameworkSection]:
    return list(
        db.session.scalars(
            select(FrameworkSection)
            .where(FrameworkSection.framework_id == review.cycle.framework_id)
            .order_by(FrameworkSection.number)
        )
    )


def evaluation_form(db, review, rating: str | None = "3", skip: int = 0, **extra) -> dict:
    """Form data rating every section (but the first ``skip``) with findings for each."""
    data = {"expected_status": "accepted", "summary": "Overall, capacity is developing."}
    for i, s in enumerate(sections(db, review)):
        if rating is not None and i >= skip:
            data[f"rating_{s.id}"] = rating
        data[f"findings_{s.id}"] = f"Findings on {s.code}"
        data[f"good_practices_{s.id}"] = f"Good practice in {s.code}"
    data.update(extra)
    return data


def submit_evaluation_directly(db, assignment: Assignment, reviewer, rating: int = 3) -> None:
    """Test setup: a full evaluation, submitted through the transition service."""
    evaluation = Evaluation(assignment_id=assignment.id, summary="Summary")
    db.session.add(evaluation)
    db.session.flush()
    for s in sections(db, assignment.review):
        db.session.add(
            EvaluationSection(
                evaluation_id=evaluation.id,
                section_id=s.id,
                rating=rating,
                findings=f"Draft findings {reviewer.display_name} {s.code}",
            )
        )
    db.session.flush()
    apply_transition(reviewer, assignment, "submit_evaluation")


# --- the invitation ------------------------------------------------------------------------


def test_invited_reviewer_sees_state_cycle_deadlines_and_role_only(client, make, login_as, db):
    cycle = make.cycle(time_zone="Africa/Nairobi")
    review = make.review("KEN", cycle)
    reviewer = make.reviewer("FRA")
    other = make.reviewer("BRA")
    assignment = make.assignment(review, reviewer, lead=True)
    make.assignment(review, other)
    login_as(reviewer)

    page = client.get(f"/assignments/{assignment.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Kenya" in text
    assert "African Group" in text
    assert "2027 cycle" in text
    assert "Lead reviewer" in text
    assert "(Africa/Nairobi)" in text  # deadlines shown in the cycle's zone
    assert "I declare that I have no conflict of interest" in text
    assert "Decline invitation" in text and "Declare a conflict of interest" in text
    # nothing else while invited: no co-reviewers, no self-assessment, no evaluation form
    assert other.display_name not in text
    assert f"/reviews/{review.id}/self-assessment" not in text
    assert f"/assignments/{assignment.id}/evaluation" not in text


def test_invited_reviewer_gets_404_on_self_assessment_report_and_evaluation(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    assert client.get(f"/reviews/{review.id}/self-assessment").status_code == 404
    assert client.get(f"/reviews/{review.id}/report").status_code == 404
    assert client.get(f"/assignments/{assignment.id}/evaluation").status_code == 404
    assert client.get(f"/assignments/{assignment.id}/evaluation/view").status_code == 404


@pytest.mark.parametrize("who", ["other_reviewer", "focal_point", "other_focal_point"])
def test_invitation_hidden_from_everyone_but_the_reviewer_and_secretariat(
    client, make, login_as, who
):
    review = make.review("KEN")
    assignment = make.assignment(review, make.reviewer("FRA"))
    user = {
        "other_reviewer": lambda: make.reviewer("BRA"),
        "focal_point": lambda: make.focal_point("KEN"),
        "other_focal_point": lambda: make.focal_point("UGA"),
    }[who]()
    login_as(user)
    assert client.get(f"/assignments/{assignment.id}").status_code == 404
    assert client.post(f"/assignments/{assignment.id}/events/accept").status_code == 404


def test_secretariat_sees_invitation_with_its_actions(client, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(make.secretariat())
    page = client.get(f"/assignments/{assignment.id}")
    assert page.status_code == 200
    assert reviewer.display_name in page.get_data(as_text=True)
    assert "Withdraw reviewer" in page.get_data(as_text=True)


def test_accept_without_no_conflict_declaration_is_refused(client, make, login_as, db):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    page = client.post(
        f"/assignments/{assignment.id}/events/accept", data={"expected_status": "invited"}
    )
    assert page.status_code == 422
    assert "please declare that you have no conflict of interest" in page.get_data(as_text=True)
    db.session.refresh(assignment)
    assert assignment.status == A.INVITED
    assert assignment.no_conflict_declared_at is None


def test_accept_with_declaration_gives_access_to_self_assessment_and_evaluation(
    client, make, login_as, db, frozen_now
):
    now = frozen_now(datetime(2027, 2, 1, 9, 30, tzinfo=UTC))
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    response = client.post(
        f"/assignments/{assignment.id}/events/accept",
        data={"expected_status": "invited", "no_conflict": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(assignment)
    assert assignment.status == A.ACCEPTED
    assert assignment.no_conflict_declared_at == now
    review.status = R.EVALUATION
    db.session.commit()
    text = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert f"/reviews/{review.id}/self-assessment" in text
    assert f"/assignments/{assignment.id}/evaluation" in text
    assert "I declare that I have no conflict of interest" not in text


def test_decline_needs_a_reason_and_then_hides_everything(client, make, login_as, db):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    refused = client.post(
        f"/assignments/{assignment.id}/events/decline",
        data={"expected_status": "invited", "reason": "  "},
    )
    assert refused.status_code == 422
    assert "Please give a reason." in refused.get_data(as_text=True)

    done = client.post(
        f"/assignments/{assignment.id}/events/decline",
        data={"expected_status": "invited", "reason": "Travelling during the whole cycle."},
    )
    assert done.status_code == 302
    db.session.refresh(assignment)
    assert assignment.status == A.DECLINED
    assert assignment.decline_reason == "Travelling during the whole cycle."
    assert client.get(f"/assignments/{assignment.id}").status_code == 404
    assert client.get(f"/reviews/{review.id}").status_code == 404


def test_declared_conflict_removes_all_access_for_that_reviewer(client, make, login_as, db):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    refused = client.post(
        f"/assignments/{assignment.id}/events/declare_conflict",
        data={"expected_status": "invited", "reason": ""},
    )
    assert refused.status_code == 422
    assert "Please describe the conflict of interest." in refused.get_data(as_text=True)

    details = "I advised Kenya's ministry of justice in 2025."
    done = client.post(
        f"/assignments/{assignment.id}/events/declare_conflict",
        data={"expected_status": "invited", "reason": details},
    )
    assert done.status_code == 302
    db.session.refresh(assignment)
    assert assignment.status == A.CONFLICTED
    assert assignment.conflict_details == details
    log = db.session.scalar(
        select(TransitionLog).where(
            TransitionLog.subject_type == "assignment", TransitionLog.event == "declare_conflict"
        )
    )
    assert log.reason == details
    for url in (
        f"/assignments/{assignment.id}",
        f"/assignments/{assignment.id}/evaluation",
        f"/assignments/{assignment.id}/evaluation/view",
        f"/reviews/{review.id}",
        f"/reviews/{review.id}/self-assessment",
        f"/reviews/{review.id}/report",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"/assignments/{assignment.id}/events/accept",
            data={"expected_status": "conflicted", "no_conflict": "y"},
        ).status_code
        == 404
    )


def test_stale_invitation_answer_is_a_conflict_not_an_error(client, make, login_as, db):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    client.post(
        f"/assignments/{assignment.id}/events/accept",
        data={"expected_status": "invited", "no_conflict": "y"},
    )
    again = client.post(
        f"/assignments/{assignment.id}/events/accept",
        data={"expected_status": "invited", "no_conflict": "y"},
    )
    assert again.status_code == 409


def test_secretariat_withdraws_assignment_through_the_event_route(client, make, login_as, db):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(make.secretariat())
    response = client.post(
        f"/assignments/{assignment.id}/events/withdraw_assignment",
        data={"expected_status": "invited", "reason": "Replaced after a late nomination."},
    )
    assert response.status_code == 302
    db.session.refresh(assignment)
    assert assignment.status == A.WITHDRAWN


def test_reviewer_cannot_withdraw_own_assignment(client, make, login_as, db):
    review = make.review("KEN")
    reviewer = make.reviewer("FRA")
    assignment = make.assignment(review, reviewer)
    login_as(reviewer)
    response = client.post(
        f"/assignments/{assignment.id}/events/withdraw_assignment",
        data={"expected_status": "invited", "reason": "x"},
    )
    assert response.status_code == 403
    db.session.refresh(assignment)
    assert assignment.status == A.INVITED


# --- the evaluation form -------------------------------------------------------------------


def test_evaluation_form_shows_every_section_with_capacity_levels_and_categories(
    client, team, login_as
):
    login_as(team["member"])
    page = client.get(f"/assignments/{team['member_a'].id}/evaluation")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Commitments and treaty accession" in text
    assert "Monitoring, evaluation and learning" in text
    assert "3 — Established" in text
    assert "Specific action — calls for a specific, measurable action" in text


def test_partial_draft_is_saved_and_submit_is_refused_until_every_section_rated(
    client, team, login_as, db
):
    review, assignment = team["review"], team["member_a"]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    draft = evaluation_form(db, review, skip=2, action="save")
    assert client.post(url, data=draft).status_code == 302
    evaluation = db.session.scalar(
        select(Evaluation).where(Evaluation.assignment_id == assignment.id)
    )
    assert evaluation.summary == "Overall, capacity is developing."
    rated = [row for row in evaluation.sections if row.rating is not None]
    assert len(rated) == 9
    assert {row.findings for row in evaluation.sections} >= {"Findings on COM", "Findings on MEL"}

    refused = client.post(url, data=evaluation_form(db, review, skip=2, action="submit"))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Rate every section before submitting; missing: 1 (COM), 2 (SEC)." in text
    assert "Findings on COM" in text  # what was typed is shown again
    db.session.refresh(assignment)
    assert assignment.status == A.ACCEPTED

    done = client.post(url, data=evaluation_form(db, review, action="submit"))
    assert done.status_code == 302
    db.session.refresh(assignment)
    db.session.refresh(evaluation)
    assert assignment.status == A.SUBMITTED
    assert evaluation.submitted_at is not None
    assert all(row.rating == 3 for row in evaluation.sections)


def test_invalid_rating_is_refused_with_message_and_typed_text_kept(client, team, login_as, db):
    review, assignment = team["review"], team["member_a"]
    login_as(team["member"])
    first = sections(db, review)[0]
    data = evaluation_form(db, review, action="save")
    data[f"rating_{first.id}"] = "9"
    data["summary"] = "A summary I typed carefully."
    page = client.post(f"/assignments/{assignment.id}/evaluation", data=data)
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Not a valid choice" in text
    assert "A summary I typed carefully." in text
    assert db.session.scalar(select(func.count(Evaluation.id))) == 0


def test_add_and_remove_proposed_recommendation_keeps_the_draft(client, team, login_as, db):
    review, assignment = team["review"], team["member_a"]
    security = sections(db, review)[1]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    missing_text = client.post(
        url, data=evaluation_form(db, review, action="add_proposal", new_section=str(security.id))
    )
    assert missing_text.status_code == 422
    assert "Write the proposed recommendation." in missing_text.get_data(as_text=True)

    added = client.post(
        url,
        data=evaluation_form(
            db,
            review,
            skip=11,
            action="add_proposal",
            new_section=str(security.id),
            new_text="Establish a civilian oversight body for the police.",
            new_category="5",
        ),
    )
    assert added.status_code == 302
    proposal = db.session.scalar(select(ProposedRecommendation))
    assert proposal.text == "Establish a civilian oversight body for the police."
    assert proposal.action_category == 5
    assert proposal.section_id == security.id
    page = client.get(url).get_data(as_text=True)
    assert "Establish a civilian oversight body for the police." in page
    assert "Findings on SEC" in page  # the rest of the draft was saved with it

    removed = client.post(
        url, data=evaluation_form(db, review, skip=11, remove_proposal=str(proposal.id))
    )
    assert removed.status_code == 302
    assert db.session.scalar(select(func.count(ProposedRecommendation.id))) == 0


def test_double_submit_yields_one_evaluation_and_a_conflict(client, team, login_as, db):
    review, assignment = team["review"], team["member_a"]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    first = client.post(url, data=evaluation_form(db, review, action="submit"))
    second = client.post(url, data=evaluation_form(db, review, action="submit"))
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Someone acted first" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Evaluation.id))) == 1
    submitted = db.session.scalar(
        select(func.count(TransitionLog.id)).where(TransitionLog.event == "submit_evaluation")
    )
    assert submitted == 1


def test_saving_a_stale_tab_after_submission_is_a_conflict(client, team, login_as, db):
    review, assignment = team["review"], team["member_a"]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    assert client.post(url, data=evaluation_form(db, review, action="submit")).status_code == 302
    stale = evaluation_form(db, review, action="save", summary="Typed in an old tab.")
    assert client.post(url, data=stale).status_code == 409
    assert db.session.scalar(select(Evaluation.summary)) == "Overall, capacity is developing."


def test_evaluation_created_concurrently_is_reread_not_duplicated(team, db, monkeypatch):
    """The loser of a race to create the evaluation hits the unique constraint and re-reads."""
    from app.services import evaluation as service

    winner = service.get_or_create_evaluation(team["member_a"])
    db.session.commit()
    real = service.evaluation_of
    looks = []

    def looked_before_the_winner_committed(assignment):
        looks.append(assignment.id)
        return None if len(looks) == 1 else real(assignment)

    monkeypatch.setattr(service, "evaluation_of", looked_before_the_winner_committed)
    again = service.get_or_create_evaluation(team["member_a"])
    assert again.id == winner.id
    assert len(looks) == 2
    assert db.session.scalar(select(func.count(Evaluation.id))) == 1


def test_submitted_evaluation_cannot_be_edited(client, team, login_as, db):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    login_as(team["member"])
    url = f"/assignments/{team['member_a'].id}/evaluation"
    assert client.get(url).status_code == 302  # to the read-only view
    assert client.post(url, data={"action": "save"}).status_code == 403


@pytest.mark.parametrize("who", ["co_reviewer", "secretariat", "focal_point"])
def test_only_the_reviewer_may_edit_their_evaluation(client, team, make, login_as, who):
    user = {
        "co_reviewer": lambda: team["lead"],
        "secretariat": lambda: team["secretariat"],
        "focal_point": lambda: make.focal_point("KEN"),
    }[who]()
    login_as(user)
    response = client.get(f"/assignments/{team['member_a'].id}/evaluation")
    assert response.status_code in (403, 404)
    if who == "focal_point":
        assert response.status_code == 404


# --- who sees an evaluation (DESIGN §5) ----------------------------------------------------


def test_coreviewer_cannot_see_evaluation_before_submitting_own_and_can_after(
    client, make, login_as, db
):
    secretariat = make.secretariat()
    review = make.review("KEN")
    lead = make.reviewer("FRA")
    first, second = make.reviewer("BRA"), make.reviewer("JPN")
    make.assignment(review, lead, lead=True, status=A.ACCEPTED, actor=secretariat)
    first_a = make.assignment(review, first, status=A.ACCEPTED, actor=secretariat)
    second_a = make.assignment(review, second, status=A.ACCEPTED, actor=secretariat)
    review.status = R.EVALUATION
    db.session.commit()
    submit_evaluation_directly(db, first_a, first)

    login_as(second)
    url = f"/assignments/{first_a.id}/evaluation/view"
    assert client.get(url).status_code == 404
    submit_evaluation_directly(db, second_a, second)
    page = client.get(url)
    assert page.status_code == 200
    assert f"Draft findings {first.display_name} COM" in page.get_data(as_text=True)


def test_lead_reviewer_can_always_view_team_evaluations(client, team, login_as, db):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    login_as(team["lead"])  # the lead has not submitted their own
    page = client.get(f"/assignments/{team['member_a'].id}/evaluation/view")
    assert page.status_code == 200
    assert f"Draft findings {team['member'].display_name} SEC" in page.get_data(as_text=True)


def test_nobody_but_the_reviewer_reads_an_unsubmitted_draft(client, team, login_as, db):
    login_as(team["member"])
    client.post(
        f"/assignments/{team['member_a'].id}/evaluation",
        data=evaluation_form(db, team["review"], action="save"),
    )
    login_as(team["lead"])
    page = client.get(f"/assignments/{team['member_a'].id}/evaluation/view")
    assert page.status_code == 200
    assert "has not been submitted yet" in page.get_data(as_text=True)
    assert "Findings on COM" not in page.get_data(as_text=True)


@pytest.mark.parametrize("state", ["KEN", "UGA"])
@pytest.mark.parametrize("review_status", [R.EVALUATION, R.FACTUAL_CHECK, R.RESPONSE])
def test_focal_point_never_sees_an_evaluation(
    client, team, make, login_as, db, state, review_status
):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    team["review"].status = review_status
    db.session.commit()
    login_as(make.focal_point(state))
    assert client.get(f"/assignments/{team['member_a'].id}/evaluation/view").status_code == 404
    assert client.get(f"/assignments/{team['member_a'].id}").status_code == 404


def test_lead_returns_an_evaluation_with_a_reason(client, team, login_as, db):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    login_as(team["lead"])
    url = f"/assignments/{team['member_a'].id}/events/return_evaluation"
    refused = client.post(url, data={"expected_status": "submitted", "reason": ""})
    assert refused.status_code == 422
    assert "Please give a reason." in refused.get_data(as_text=True)
    done = client.post(
        url, data={"expected_status": "submitted", "reason": "Section 4 needs evidence."}
    )
    assert done.status_code == 302
    db.session.refresh(team["member_a"])
    assert team["member_a"].status == A.ACCEPTED
    evaluation = db.session.scalar(select(Evaluation))
    assert evaluation.submitted_at is None


def test_non_lead_coreviewer_cannot_return_an_evaluation(client, team, make, login_as, db):
    secretariat = team["secretariat"]
    third = make.reviewer("JPN")
    third_a = make.assignment(team["review"], third, status=A.ACCEPTED, actor=secretariat)
    submit_evaluation_directly(db, team["member_a"], team["member"])
    submit_evaluation_directly(db, third_a, third)
    login_as(third)
    response = client.post(
        f"/assignments/{team['member_a'].id}/events/return_evaluation",
        data={"expected_status": "submitted", "reason": "I disagree."},
    )
    assert response.status_code == 404


# --- nothing typed is lost: two tabs, stale status, duplicates ----------------------------


def page_text(page) -> str:
    return html.unescape(page.get_data(as_text=True))


def page_version(page) -> str:
    """The hidden ``base_version`` of a rendered evaluation page."""
    found = re.search(r'name="base_version" type="hidden" value="([0-9a-f]+)"', page_text(page))
    assert found, "the page carries no base_version"
    return found.group(1)


def test_second_tab_saving_an_older_evaluation_is_refused_and_a_deliberate_resave_goes_through(
    client, team, login_as, db
):
    review, assignment = team["review"], team["member_a"]
    security = sections(db, review)[1]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    tab_one = page_version(client.get(url))
    tab_two = page_version(client.get(url))

    saved = client.post(
        url,
        data={
            "expected_status": "accepted",
            "base_version": tab_two,
            "summary": "Summary saved in tab two.",
        },
    )
    assert saved.status_code == 302

    typed = evaluation_form(db, review, action="save", summary="", base_version=tab_one)
    typed[f"findings_{security.id}"] = "Findings typed in tab one."
    refused = client.post(url, data=typed)
    assert refused.status_code == 409
    text = page_text(refused)
    assert "Someone saved this evaluation after you opened it. Your text is kept below." in text
    assert "Findings typed in tab one." in text
    db.session.expire_all()
    assert db.session.scalar(select(Evaluation.summary)) == "Summary saved in tab two."
    assert (
        "Findings typed in tab one."
        not in db.session.scalars(select(EvaluationSection.findings)).all()
    )

    typed["base_version"] = page_version(refused)
    assert typed["base_version"] != tab_one
    assert client.post(url, data=typed).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Evaluation.summary)) == ""
    assert (
        db.session.scalar(
            select(EvaluationSection.findings).where(EvaluationSection.section_id == security.id)
        )
        == "Findings typed in tab one."
    )


def test_a_proposal_added_in_another_tab_makes_an_older_page_stale(client, team, login_as, db):
    review, assignment = team["review"], team["member_a"]
    security = sections(db, review)[1]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    version = page_version(client.get(url))
    added = evaluation_form(
        db,
        review,
        action="add_proposal",
        base_version=version,
        new_section=str(security.id),
        new_text="Vet senior officers.",
        new_category="5",
    )
    assert client.post(url, data=added).status_code == 302
    stale = evaluation_form(db, review, action="save", base_version=version, summary="Old tab.")
    assert client.post(url, data=stale).status_code == 409
    assert db.session.scalar(select(Evaluation.summary)) == "Overall, capacity is developing."


def test_saving_after_submitting_in_another_tab_shows_the_typed_text_back(
    client, team, login_as, db
):
    review, assignment = team["review"], team["member_a"]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    version = page_version(client.get(url))
    assert client.post(url, data=evaluation_form(db, review, action="submit")).status_code == 302

    stale = evaluation_form(
        db, review, action="save", base_version=version, summary="Typed in the other tab."
    )
    page = client.post(url, data=stale)
    assert page.status_code == 409
    text = page_text(page)
    assert (
        "This evaluation was submitted and can no longer be changed here; your unsaved text is "
        "shown below so you can copy it." in text
    )
    assert re.search(r"<textarea[^>]*readonly[^>]*>\s*Typed in the other tab\.</textarea>", text)
    assert "Save draft" not in text and "Submit evaluation" not in text
    db.session.expire_all()
    assert db.session.scalar(select(Evaluation.summary)) == "Overall, capacity is developing."


@pytest.mark.parametrize("who", ["lead", "secretariat"])
def test_a_stale_evaluation_page_posted_by_someone_else_is_still_403(
    client, team, login_as, db, who
):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    login_as(team[who])
    data = evaluation_form(db, team["review"], action="save", base_version="0123456789abcdef0123")
    response = client.post(f"/assignments/{team['member_a'].id}/evaluation", data=data)
    assert response.status_code == 403
    assert db.session.scalar(select(Evaluation.summary)) == "Summary"


def test_focal_point_posting_an_evaluation_page_gets_404(client, team, make, login_as, db):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    login_as(make.focal_point("KEN"))
    data = evaluation_form(db, team["review"], action="save", base_version="0123456789abcdef0123")
    response = client.post(f"/assignments/{team['member_a'].id}/evaluation", data=data)
    assert response.status_code == 404


def test_same_proposed_recommendation_twice_is_refused_with_the_form_kept(
    client, team, login_as, db
):
    review, assignment = team["review"], team["member_a"]
    security = sections(db, review)[1]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"

    def add(text: str, section=security):
        data = evaluation_form(
            db,
            review,
            action="add_proposal",
            new_section=str(section.id),
            new_text=text,
            new_category="5",
        )
        return client.post(url, data=data)

    assert add("Vet senior officers.").status_code == 302
    twice = add(" Vet  senior\nofficers.  ")
    assert twice.status_code == 422
    text = page_text(twice)
    assert "This proposed recommendation is already in your evaluation." in text
    assert "Vet  senior\nofficers." in text
    assert db.session.scalar(select(func.count(ProposedRecommendation.id))) == 1
    assert add("Vet senior officers.", sections(db, review)[2]).status_code == 302
    assert db.session.scalar(select(func.count(ProposedRecommendation.id))) == 2


def test_the_version_on_the_form_is_the_stored_version(client, team, login_as, db):
    """The GET computes the evaluation's version from the rows it loaded; it must equal the
    version a save compares with, or every save would be refused as stale (or none would)."""
    from app.services import evaluation as service

    review, assignment = team["review"], team["member_a"]
    security = sections(db, review)[1]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    posted = evaluation_form(
        db,
        review,
        skip=3,
        action="add_proposal",
        new_section=str(security.id),
        new_text="Train police commanders in crowd control without lethal force.",
        new_category="3",
    )
    assert client.post(url, data=posted).status_code == 302
    page = client.get(url).get_data(as_text=True)
    shown = re.search(r'name="base_version"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="base_version"', page
    )
    db.session.expire_all()
    stored = service.evaluation_version(db.session.get(Assignment, assignment.id))
    assert shown is not None and shown.group(1) == stored
    assert stored != service.loaded_evaluation_version(None)  # the draft is not empty
