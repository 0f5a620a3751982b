"""The peer-review report: lead's drafting, the state's factual comments, who sees it (§4, §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.models import (
    Evaluation,
    EvaluationSection,
    FactualComment,
    FrameworkSection,
    Priority,
    ProposedRecommendation,
    Recommendation,
    Report,
    ReportSection,
    Role,
    TransitionLog,
)
from app.services.transitions import apply_transition
from workflows import AssignmentStatus, ReviewStatus

A = AssignmentStatus
R = ReviewStatus


@pytest.fixture
def team(make, db):
    """A review of Kenya in evaluation with an accepted lead (France) and member (Brazil)."""
    secretariat = make.secretariat()
    review = make.review("KEN")
    lead = make.reviewer("FRA")
    member = make.reviewer("BRA")
    lead_a = make.assignment(review, lead, lead=True, status=A.ACCEPTED, actor=secretariat)
    member_a = make.assignment(review, member, status=A.ACCEPTED, actor=secretariat)
    review.status = R.EVALUATION
    db.session.commit()
    return {
        "secretariat": secretariat,
        "review": review,
        "lead": lead,
        "member": member,
        "lead_a": lead_a,
        "member_a": member_a,
        "sections": list(
            db.session.scalars(
                select(FrameworkSection)
                .where(FrameworkSection.framework_id == review.cycle.framework_id)
                .order_by(FrameworkSection.number)
            )
        ),
    }


def submitted_evaluation(db, team, key: str, proposals=(), submit: bool = True) -> Evaluation:
    """Test setup: a complete evaluation by ``team[key]``, with proposals, optionally submitted."""
    assignment, reviewer = team[f"{key}_a"], team[key]
    evaluation = Evaluation(assignment_id=assignment.id, summary=f"Summary by {key}")
    db.session.add(evaluation)
    db.session.flush()
    for s in team["sections"]:
        db.session.add(
            EvaluationSection(
                evaluation_id=evaluation.id,
                section_id=s.id,
                rating=2,
                findings=f"{key} found on {s.code}",
            )
        )
    for section_index, text, category in proposals:
        db.session.add(
            ProposedRecommendation(
                evaluation_id=evaluation.id,
                section_id=team["sections"][section_index].id,
                text=text,
                action_category=category,
            )
        )
    db.session.flush()
    if submit:
        apply_transition(reviewer, assignment, "submit_evaluation")
    else:
        db.session.commit()
    return evaluation


def draft_form(team, rating: str | None = "3", skip: int = 0) -> dict:
    data = {"executive_summary": "Kenya has developing capacity overall."}
    for i, s in enumerate(team["sections"]):
        if rating is not None and i >= skip:
            data[f"consensus_{s.id}"] = rating
        data[f"findings_{s.id}"] = f"Consensus findings on {s.code}."
        data[f"good_practices_{s.id}"] = f"Good practice on {s.code}."
    return data


def complete_report(db, team, status=R.FACTUAL_CHECK) -> Report:
    """Test setup: a full report with one recommendation, the review moved to ``status``."""
    review = team["review"]
    report = Report(review_id=review.id, executive_summary="Executive summary text.")
    db.session.add(report)
    db.session.flush()
    for s in team["sections"]:
        db.session.add(
            ReportSection(
                report_id=report.id,
                section_id=s.id,
                consensus_rating=2,
                findings=f"Original findings on {s.code}.",
                good_practices=f"Practice {s.code}.",
            )
        )
    db.session.add(
        Recommendation(
            review_id=review.id,
            section_id=team["sections"][1].id,
            text="Create an independent police complaints authority.",
            priority=Priority.HIGH,
            action_category=5,
            target_date=date(2028, 6, 30),
        )
    )
    review.status = status
    for a in (team["lead_a"], team["member_a"]):
        a.status = A.SUBMITTED
    db.session.commit()
    return report


def report_urls(review_id: int, recommendation_id: int = 1) -> list[tuple[str, str]]:
    base = f"/reviews/{review_id}/report"
    return [
        ("get", base),
        ("get", f"{base}/edit"),
        ("post", f"{base}/edit"),
        ("post", f"{base}/comments"),
        ("post", f"{base}/recommendations"),
        ("get", f"{base}/recommendations/{recommendation_id}"),
        ("post", f"{base}/recommendations/{recommendation_id}/delete"),
        ("post", f"{base}/import"),
    ]


# --- who sees the report -------------------------------------------------------------------


def test_focal_point_sees_report_only_from_factual_check(client, team, make, login_as, db):
    focal_point = make.focal_point("KEN")
    login_as(focal_point)
    url = f"/reviews/{team['review'].id}/report"
    assert client.get(url).status_code == 404
    complete_report(db, team, R.FACTUAL_CHECK)
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Executive summary text." in text
    assert "Create an independent police complaints authority." in text
    assert "5</strong> — Specific action" in text
    assert "Add a factual-accuracy comment" in text
    assert "found on" not in text  # never the individual evaluations


@pytest.mark.parametrize("status", [R.EVALUATION, R.FACTUAL_CHECK, R.RESPONSE, R.FOLLOW_UP])
def test_other_states_focal_point_gets_404_on_every_report_url(
    client, team, make, login_as, db, status
):
    complete_report(db, team, status)
    recommendation = db.session.scalar(select(Recommendation))
    login_as(make.focal_point("UGA"))
    for method, url in report_urls(team["review"].id, recommendation.id):
        assert getattr(client, method)(url).status_code == 404, (method, url)


@pytest.mark.parametrize("who", ["invited", "declined", "withdrawn", "unassigned"])
def test_reviewers_off_the_team_get_404_on_every_report_url(client, team, make, login_as, db, who):
    complete_report(db, team, R.FACTUAL_CHECK)
    reviewer = make.reviewer("JPN")
    if who != "unassigned":
        make.assignment(team["review"], reviewer, status=A(who), actor=team["secretariat"])
    login_as(reviewer)
    for method, url in report_urls(team["review"].id):
        assert getattr(client, method)(url).status_code == 404, (method, url)


def test_team_members_and_secretariat_read_the_draft_during_evaluation(client, team, login_as, db):
    report = Report(review_id=team["review"].id, executive_summary="Work in progress.")
    db.session.add(report)
    db.session.commit()
    for user in (team["member"], team["lead"], team["secretariat"]):
        login_as(user)
        page = client.get(f"/reviews/{team['review'].id}/report")
        assert page.status_code == 200
        assert "Work in progress." in page.get_data(as_text=True)


# --- the state's factual-accuracy comments -------------------------------------------------


def test_factual_comments_are_separate_rows_beside_findings_never_altering_them(
    client, team, make, login_as, db, frozen_now
):
    frozen_now(datetime(2027, 9, 1, 8, 0, tzinfo=UTC))
    report = complete_report(db, team)
    security = team["sections"][1]
    focal_point = make.user(Role.FOCAL_POINT, "KEN", name="Wanjiru Kamau")
    login_as(focal_point)
    url = f"/reviews/{team['review'].id}/report/comments"
    first = client.post(
        url, data={"section_id": str(security.id), "body": "The police act was amended in 2026."}
    )
    second = client.post(
        url, data={"section_id": str(security.id), "body": "Oversight board exists since 2019."}
    )
    general = client.post(url, data={"section_id": "", "body": "Thank you for a careful report."})
    assert [first.status_code, second.status_code, general.status_code] == [302, 302, 302]

    rows = db.session.scalars(select(FactualComment).order_by(FactualComment.id)).all()
    assert [(c.section_id, c.body) for c in rows] == [
        (security.id, "The police act was amended in 2026."),
        (security.id, "Oversight board exists since 2019."),
        (None, "Thank you for a careful report."),
    ]
    assert all(c.author_id == focal_point.id for c in rows)
    findings = db.session.scalar(
        select(ReportSection.findings).where(
            ReportSection.report_id == report.id, ReportSection.section_id == security.id
        )
    )
    assert findings == "Original findings on SEC."

    login_as(team["lead"])
    text = client.get(f"/reviews/{team['review'].id}/report").get_data(as_text=True)
    section_html = text.split('id="section-2"')[1].split('id="section-3"')[0]
    findings_part, comments_part = section_html.split("Factual-accuracy comments of the state", 1)
    assert "Original findings on SEC." in findings_part
    assert "The police act was amended in 2026." not in findings_part
    assert "The police act was amended in 2026." in comments_part
    assert "Oversight board exists since 2019." in comments_part
    assert "Wanjiru Kamau" in comments_part
    assert "01 Sep 2027, 08:00 (UTC)" in comments_part
    assert "General comments of the state" in text
    assert "Thank you for a careful report." in text


def test_empty_factual_comment_is_refused_with_a_message(client, team, make, login_as, db):
    complete_report(db, team)
    login_as(make.focal_point("KEN"))
    page = client.post(
        f"/reviews/{team['review'].id}/report/comments", data={"section_id": "", "body": "  "}
    )
    assert page.status_code == 422
    assert "Write the comment." in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FactualComment.id))) == 0


@pytest.mark.parametrize("who", ["lead", "member", "secretariat"])
def test_only_the_states_focal_point_may_comment(client, team, login_as, db, who):
    complete_report(db, team)
    login_as(team[who])
    response = client.post(
        f"/reviews/{team['review'].id}/report/comments", data={"section_id": "", "body": "x"}
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(FactualComment.id))) == 0


def test_focal_point_cannot_comment_after_adoption(client, team, make, login_as, db):
    complete_report(db, team, R.RESPONSE)
    login_as(make.focal_point("KEN"))
    page = client.get(f"/reviews/{team['review'].id}/report")
    assert page.status_code == 200
    assert "Add a factual-accuracy comment" not in page.get_data(as_text=True)
    response = client.post(
        f"/reviews/{team['review'].id}/report/comments", data={"section_id": "", "body": "Late."}
    )
    assert response.status_code == 403


def test_focal_point_sends_factual_comments_from_the_report_page(client, team, make, login_as, db):
    complete_report(db, team)
    login_as(make.focal_point("KEN"))
    page = client.get(f"/reviews/{team['review'].id}/report").get_data(as_text=True)
    assert f"/reviews/{team['review'].id}/events/submit_factual_comments" in page
    response = client.post(
        f"/reviews/{team['review'].id}/events/submit_factual_comments",
        data={"expected_status": "factual_check"},
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(
            select(func.count(TransitionLog.id)).where(
                TransitionLog.event == "submit_factual_comments"
            )
        )
        == 1
    )


def test_secretariat_sees_adopt_and_return_on_the_report_page(client, team, login_as, db):
    complete_report(db, team)
    login_as(team["secretariat"])
    text = client.get(f"/reviews/{team['review'].id}/report").get_data(as_text=True)
    assert f"/reviews/{team['review'].id}/events/adopt_report" in text
    assert f"/reviews/{team['review'].id}/events/return_draft_report" in text
    assert f'/reviews/{team["review"].id}"' in text  # link to the review page


# --- drafting by the lead reviewer ---------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "secretariat"])
def test_only_the_lead_reviewer_drafts_the_report(client, team, login_as, db, who):
    login_as(team[who])
    base = f"/reviews/{team['review'].id}/report"
    assert client.get(f"{base}/edit").status_code == 403
    assert client.post(f"{base}/edit", data=draft_form(team)).status_code == 403
    assert client.post(f"{base}/import").status_code == 403
    assert db.session.scalar(select(func.count(Report.id))) == 0


def test_lead_cannot_draft_outside_evaluation(client, team, login_as, db):
    complete_report(db, team, R.FACTUAL_CHECK)
    login_as(team["lead"])
    assert client.get(f"/reviews/{team['review'].id}/report/edit").status_code == 403


def test_lead_sees_only_submitted_evaluations_beside_each_section(client, team, login_as, db):
    submitted_evaluation(db, team, "member")
    submitted_evaluation(db, team, "lead", submit=False)
    login_as(team["lead"])
    page = client.get(f"/reviews/{team['review'].id}/report/edit")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "member found on SEC" in text
    assert "2 — Developing" in text
    assert "lead found on SEC" not in text  # the lead's own draft is not submitted yet


def test_report_row_is_created_on_first_save_and_saved_partially(client, team, login_as, db):
    login_as(team["lead"])
    url = f"/reviews/{team['review'].id}/report/edit"
    assert client.post(url, data=draft_form(team, skip=3)).status_code == 302
    assert client.post(url, data=draft_form(team, skip=1)).status_code == 302
    assert db.session.scalar(select(func.count(Report.id))) == 1
    report = db.session.scalar(select(Report))
    assert report.executive_summary == "Kenya has developing capacity overall."
    rated = db.session.scalar(
        select(func.count(ReportSection.id)).where(ReportSection.consensus_rating.is_not(None))
    )
    assert rated == 10
    assert "Consensus findings on MEL." in client.get(url).get_data(as_text=True)


def test_report_created_concurrently_is_reread_not_duplicated(team, db, monkeypatch):
    """The loser of a race to create the report hits the unique constraint and re-reads."""
    from app.services import report as service

    winner = service.get_or_create_report(team["review"])
    db.session.commit()
    real = service.report_of
    looks = []

    def looked_before_the_winner_committed(review):
        looks.append(review.id)
        return None if len(looks) == 1 else real(review)

    monkeypatch.setattr(service, "report_of", looked_before_the_winner_committed)
    assert service.get_or_create_report(team["review"]).id == winner.id
    assert db.session.scalar(select(func.count(Report.id))) == 1


def test_invalid_consensus_rating_keeps_the_typed_text(client, team, login_as, db):
    login_as(team["lead"])
    data = draft_form(team)
    data[f"consensus_{team['sections'][0].id}"] = "5"
    data["executive_summary"] = "A summary the lead must not lose."
    page = client.post(f"/reviews/{team['review'].id}/report/edit", data=data)
    assert page.status_code == 422
    assert "A summary the lead must not lose." in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Report.id))) == 0


def test_import_proposals_is_idempotent_and_takes_only_submitted_evaluations(
    client, team, login_as, db
):
    submitted_evaluation(
        db,
        team,
        "member",
        proposals=[
            (1, "Train police in crowd control.", 5),
            (9, "Donors should coordinate aid.", 4),
        ],
    )
    submitted_evaluation(
        db, team, "lead", proposals=[(2, "Lead's unsubmitted idea.", 3)], submit=False
    )
    login_as(team["lead"])
    url = f"/reviews/{team['review'].id}/report/import"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    recommendations = db.session.scalars(select(Recommendation).order_by(Recommendation.id)).all()
    assert [r.text for r in recommendations] == [
        "Train police in crowd control.",
        "Donors should coordinate aid.",
    ]
    assert all(r.proposal_id is not None for r in recommendations)
    assert recommendations[0].action_category == 5
    assert recommendations[0].section_id == team["sections"][1].id
    page = client.get(f"/reviews/{team['review'].id}/report/edit").get_data(as_text=True)
    assert "There are no new proposed recommendations to import." in page
    assert db.session.scalar(select(func.count(Report.id))) == 1


def test_lead_adds_edits_and_deletes_recommendations(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations"
    security = team["sections"][1]
    refused = client.post(
        base,
        data={
            "section_id": "",
            "text": "Text I typed.",
            "priority": "high",
            "action_category": "5",
            "addressee": "state",
        },
    )
    assert refused.status_code == 422
    assert "Choose a section." in refused.get_data(as_text=True)
    assert "Text I typed." in refused.get_data(as_text=True)

    added = client.post(
        base,
        data={
            "section_id": str(security.id),
            "text": "Vet senior officers.",
            "priority": "high",
            "action_category": "5",
            "addressee": "international_partners",
            "target_date": "2028-12-31",
        },
    )
    assert added.status_code == 302
    rec = db.session.scalar(select(Recommendation))
    assert (rec.text, rec.priority, rec.action_category, rec.addressee, rec.target_date) == (
        "Vet senior officers.",
        Priority.HIGH,
        5,
        "international_partners",
        date(2028, 12, 31),
    )
    edit_page = client.get(f"{base}/{rec.id}")
    assert edit_page.status_code == 200
    assert "Vet senior officers." in edit_page.get_data(as_text=True)

    bad_date = client.post(
        f"{base}/{rec.id}",
        data={
            "section_id": str(security.id),
            "text": "Vet all officers.",
            "priority": "low",
            "action_category": "4",
            "addressee": "state",
            "target_date": "2028-13-45",
        },
    )
    assert bad_date.status_code == 422
    assert "Vet all officers." in bad_date.get_data(as_text=True)

    edited = client.post(
        f"{base}/{rec.id}",
        data={
            "section_id": str(security.id),
            "text": "Vet all officers.",
            "priority": "low",
            "action_category": "4",
            "addressee": "state",
            "target_date": "",
        },
    )
    assert edited.status_code == 302
    db.session.refresh(rec)
    assert (rec.text, rec.priority, rec.target_date) == ("Vet all officers.", Priority.LOW, None)

    assert client.post(f"{base}/{rec.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count(Recommendation.id))) == 0


def test_recommendation_of_another_review_is_404(client, team, make, login_as, db):
    other_review = make.review("UGA", team["review"].cycle)
    other = Recommendation(
        review_id=other_review.id,
        section_id=team["sections"][0].id,
        text="Other.",
        priority=Priority.LOW,
        action_category=2,
    )
    db.session.add(other)
    db.session.commit()
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations/{other.id}"
    assert client.get(base).status_code == 404
    assert client.post(f"{base}/delete").status_code == 404


def test_submit_draft_report_refused_with_reasons_then_accepted(client, team, login_as, db):
    login_as(team["lead"])
    review = team["review"]
    fire = f"/reviews/{review.id}/events/submit_draft_report"
    edit = f"/reviews/{review.id}/report/edit"

    assert "Submit draft report" in client.get(edit).get_data(as_text=True)
    refused = client.post(fire, data={"expected_status": "evaluation"})
    assert refused.status_code == 422
    assert "2 reviewer(s) have not submitted their evaluation yet." in refused.get_data(
        as_text=True
    )

    submitted_evaluation(db, team, "member", proposals=[(0, "Ratify the protocol.", 5)])
    submitted_evaluation(db, team, "lead")
    client.post(edit, data=draft_form(team, skip=2))
    refused = client.post(fire, data={"expected_status": "evaluation"})
    assert refused.status_code == 422
    assert "Give a consensus rating for every section; missing: COM, SEC." in refused.get_data(
        as_text=True
    )

    client.post(edit, data=draft_form(team))
    refused = client.post(fire, data={"expected_status": "evaluation"})
    assert refused.status_code == 422
    assert "The report needs at least one recommendation." in refused.get_data(as_text=True)

    client.post(f"/reviews/{review.id}/report/import")
    done = client.post(fire, data={"expected_status": "evaluation"})
    assert done.status_code == 302
    db.session.refresh(review)
    assert review.status == R.FACTUAL_CHECK
    assert db.session.scalar(select(Report.submitted_at)) is not None
    assert client.get(edit).status_code == 403  # the draft is with the state now
