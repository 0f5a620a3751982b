"""The peer-review report: lead's drafting, the state's factual comments, who sees it (§4, §5)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.models import (
    Evaluation,
    EvaluationSection,
    FactualComment,
    Priority,
    ProposedRecommendation,
    Recommendation,
    Report,
    ReportSection,
    Review,
    Role,
    TransitionLog,
)
from app.services.transitions import apply_transition
from workflows import AssignmentStatus, ReviewStatus

A = AssignmentStatus
R = ReviewStatus


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
    # the draft is derived from the team's evaluations: a co-reviewer reads it only after
    # submitting their own (DESIGN §5)
    login_as(team["member"])
    assert client.get(f"/reviews/{team['review'].id}/report").status_code == 404
    team["member_a"].status = A.SUBMITTED
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
    assert "1 Sept 2027, 08:00 (UTC)" in comments_part  # CLDR en_GB
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
    assert client.get(f"{base}/edit").status_code in (403, 404)
    assert client.post(f"{base}/edit", data=draft_form(team)).status_code in (403, 404)
    assert client.post(f"{base}/import").status_code in (403, 404)
    assert db.session.scalar(select(func.count(Report.id))) == 0


def test_lead_cannot_draft_outside_evaluation_and_is_told_why(client, team, login_as, db):
    complete_report(db, team, R.FACTUAL_CHECK)
    login_as(team["lead"])
    response = client.get(f"/reviews/{team['review'].id}/report/edit")
    assert response.status_code == 302  # to the report, with the reason (issue 16, item 10)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "can no longer be edited: it was submitted and is now Factual check" in page
    assert "only if the secretariat returns it" in page
    assert client.post(f"/reviews/{team['review'].id}/report/edit").status_code == 403


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

    assert "Save and submit the draft report" in client.get(edit).get_data(as_text=True)
    refused = client.post(fire, data={"expected_status": "evaluation"})
    assert refused.status_code == 422
    assert "2 reviewers have not submitted their evaluation yet." in refused.get_data(as_text=True)

    submitted_evaluation(db, team, "member", proposals=[(0, "Ratify the protocol.", 5)])
    submitted_evaluation(db, team, "lead")
    client.post(edit, data=draft_form(team, skip=2))
    refused = client.post(fire, data={"expected_status": "evaluation"})
    assert refused.status_code == 422
    assert (
        "Give a consensus rating for every section; missing: 1 (COM), 2 (SEC)."
        in refused.get_data(as_text=True)
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
    closed = client.get(edit)  # the draft is with the state now: the lead is told why
    assert closed.status_code == 302 and closed.headers["Location"].endswith("/report")


# --- nothing typed is lost: two tabs, buttons of one form, stale status, duplicates -------


def page_version(page) -> str:
    """The hidden ``base_version`` of a rendered drafting page."""
    found = re.search(r'name="base_version" type="hidden" value="([0-9a-f]+)"', page_text(page))
    assert found, "the page carries no base_version"
    return found.group(1)


def page_text(page) -> str:
    return html.unescape(page.get_data(as_text=True))


def recommendation_data(team, text="Vet senior officers.", section=1, **extra) -> dict:
    data = {
        "section_id": str(team["sections"][section].id),
        "text": text,
        "priority": "high",
        "action_category": "5",
        "addressee": "state",
        "target_date": "2028-12-31",
    }
    data.update(extra)
    return data


def stored_report(db) -> Report:
    db.session.expire_all()
    return db.session.scalar(select(Report))


def test_second_tab_saving_an_older_draft_is_refused_and_a_deliberate_resave_goes_through(
    client, team, login_as, db
):
    login_as(team["lead"])
    url = f"/reviews/{team['review'].id}/report/edit"
    security = team["sections"][1]
    tab_one = page_version(client.get(url))
    tab_two = page_version(client.get(url))

    summary_only = {"executive_summary": "Summary saved in tab two.", "base_version": tab_two}
    assert client.post(url, data=summary_only).status_code == 302

    findings = draft_form(team, rating=None)
    findings.update(executive_summary="", base_version=tab_one)
    findings[f"findings_{security.id}"] = "Findings typed in tab one."
    refused = client.post(url, data=findings)
    assert refused.status_code == 409
    text = page_text(refused)
    assert "Someone saved this report after you opened it. Your text is kept below." in text
    assert "Findings typed in tab one." in text
    assert stored_report(db).executive_summary == "Summary saved in tab two."
    saved = db.session.scalars(select(ReportSection.findings)).all()
    assert "Findings typed in tab one." not in saved  # nothing of tab one was saved

    newer = page_version(refused)
    assert newer != tab_one
    findings["base_version"] = newer
    assert client.post(url, data=findings).status_code == 302
    assert stored_report(db).executive_summary == ""  # replaced deliberately
    assert (
        db.session.scalar(
            select(ReportSection.findings).where(ReportSection.section_id == security.id)
        )
        == "Findings typed in tab one."
    )


def test_drafting_page_is_one_form_whose_recommendation_buttons_post_the_draft(
    client, team, login_as, db
):
    complete = Recommendation(
        review_id=team["review"].id,
        section_id=team["sections"][0].id,
        text="Ratify the Genocide Convention.",
        priority=Priority.HIGH,
        action_category=5,
    )
    db.session.add(complete)
    db.session.commit()
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    text = page_text(client.get(f"{base}/edit"))
    main_form = text.split(f'<form method="post" action="{base}/edit"', 1)[1].split("</form>")[0]
    assert 'name="executive_summary"' in main_form
    assert f'formaction="{base}/recommendations"' in main_form
    assert f'formaction="{base}/recommendations/{complete.id}/delete"' in main_form
    assert f'name="edit_recommendation" value="{complete.id}"' in main_form
    assert f'formaction="{base}/import"' in main_form
    assert 'name="text"' in main_form


def test_adding_a_recommendation_keeps_the_typed_summary_and_findings(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    version = page_version(client.get(f"{base}/edit"))
    data = draft_form(team, rating=None)
    data.update(recommendation_data(team), base_version=version)
    data["executive_summary"] = "A summary typed before adding a recommendation."
    added = client.post(f"{base}/recommendations", data=data)
    assert added.status_code == 302
    report = stored_report(db)
    assert report.executive_summary == "A summary typed before adding a recommendation."
    assert {row.findings for row in report.sections} >= {"Consensus findings on SEC."}
    assert db.session.scalar(select(Recommendation.text)) == "Vet senior officers."
    page = page_text(client.get(f"{base}/edit"))
    assert "A summary typed before adding a recommendation." in page
    assert "Vet senior officers." in page


def test_refused_recommendation_keeps_the_typed_summary_unsaved_on_the_page(
    client, team, login_as, db
):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    data = draft_form(team, rating=None)
    data.update(recommendation_data(team, section_id=""), base_version="")
    data["executive_summary"] = "Summary I must not lose."
    refused = client.post(f"{base}/recommendations", data=data)
    assert refused.status_code == 422
    text = page_text(refused)
    assert "Choose a section." in text
    assert "Summary I must not lose." in text
    assert "Vet senior officers." in text
    assert db.session.scalar(select(func.count(Report.id))) == 0


def test_saving_the_draft_with_a_recommendation_typed_adds_it(client, team, login_as, db):
    login_as(team["lead"])
    data = draft_form(team)
    data.update(recommendation_data(team, text="Typed, then Save draft pressed."))
    assert client.post(f"/reviews/{team['review'].id}/report/edit", data=data).status_code == 302
    assert db.session.scalar(select(Recommendation.text)) == "Typed, then Save draft pressed."


def test_edit_and_delete_buttons_save_the_typed_draft_first(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    client.post(f"{base}/recommendations", data=recommendation_data(team))
    client.post(f"{base}/recommendations", data=recommendation_data(team, text="Second one."))
    first, second = db.session.scalars(select(Recommendation).order_by(Recommendation.id))
    first_id, second_id = first.id, second.id

    data = draft_form(team)
    data.update(executive_summary="Typed before Edit.", edit_recommendation=str(first_id))
    opened = client.post(f"{base}/edit", data=data)
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"{base}/recommendations/{first_id}")
    assert stored_report(db).executive_summary == "Typed before Edit."

    data = draft_form(team)
    data["executive_summary"] = "Typed before Delete."
    deleted = client.post(f"{base}/recommendations/{second_id}/delete", data=data)
    assert deleted.status_code == 302
    assert stored_report(db).executive_summary == "Typed before Delete."
    assert db.session.scalars(select(Recommendation.id)).all() == [first_id]

    # the same Delete pressed again (a double click): nothing to delete, the text is still saved
    data["executive_summary"] = "Typed before a second Delete."
    again = client.post(f"{base}/recommendations/{second_id}/delete", data=data)
    assert again.status_code == 302
    assert stored_report(db).executive_summary == "Typed before a second Delete."


def test_import_button_saves_the_typed_draft(client, team, login_as, db):
    submitted_evaluation(db, team, "member", proposals=[(1, "Train police.", 5)])
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    data = draft_form(team)
    data["executive_summary"] = "Typed before importing."
    assert client.post(f"{base}/import", data=data).status_code == 302
    assert stored_report(db).executive_summary == "Typed before importing."
    assert db.session.scalar(select(Recommendation.text)) == "Train police."


def submit_draft_elsewhere(db, team) -> None:
    """Test setup: the draft report submitted (e.g. from the lead's other tab)."""
    review = team["review"]
    report = db.session.scalar(select(Report)) or Report(review_id=review.id)
    report.executive_summary = "Submitted summary."
    report.submitted_at = datetime(2027, 6, 1, tzinfo=UTC)
    db.session.add(report)
    review.status = R.FACTUAL_CHECK
    for a in (team["lead_a"], team["member_a"]):
        a.status = A.SUBMITTED
    db.session.commit()


def test_saving_after_the_draft_was_submitted_shows_the_typed_text_back(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    version = page_version(client.get(f"{base}/edit"))
    submit_draft_elsewhere(db, team)

    data = draft_form(team)
    data.update(base_version=version, executive_summary="Typed in the stale tab.")
    page = client.post(f"{base}/edit", data=data)
    assert page.status_code == 409
    text = page_text(page)
    assert (
        "This draft report was submitted and can no longer be changed here; your unsaved text "
        "is shown below so you can copy it" in text
    )
    assert re.search(r"<textarea[^>]*readonly[^>]*>\s*Typed in the stale tab\.</textarea>", text)
    assert "Save draft" not in text
    assert stored_report(db).executive_summary == "Submitted summary."

    data.update(recommendation_data(team, text="A recommendation typed too late."))
    page = client.post(f"{base}/recommendations", data=data)
    assert page.status_code == 409
    assert "A recommendation typed too late." in page_text(page)
    assert db.session.scalar(select(func.count(Recommendation.id))) == 0


def test_editing_a_recommendation_after_submission_shows_the_typed_text_back(
    client, team, login_as, db
):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations"
    client.post(base, data=recommendation_data(team))
    rec_id = db.session.scalar(select(Recommendation.id))
    version = page_version(client.get(f"{base}/{rec_id}"))
    submit_draft_elsewhere(db, team)
    data = recommendation_data(team, text="Vet all officers, typed too late.", base_version=version)
    page = client.post(f"{base}/{rec_id}", data=data)
    assert page.status_code == 409
    assert "Vet all officers, typed too late." in page_text(page)
    assert db.session.scalar(select(Recommendation.text)) == "Vet senior officers."


@pytest.mark.parametrize("who", ["member", "secretariat"])
def test_a_stale_page_posted_by_someone_who_may_never_draft_is_still_403(
    client, team, login_as, db, who
):
    submit_draft_elsewhere(db, team)
    login_as(team[who])
    data = draft_form(team)
    data["base_version"] = "0123456789abcdef0123"
    response = client.post(f"/reviews/{team['review'].id}/report/edit", data=data)
    assert response.status_code == 403
    assert stored_report(db).executive_summary == "Submitted summary."


def test_other_states_focal_point_posting_a_draft_page_gets_404(client, team, make, login_as, db):
    submit_draft_elsewhere(db, team)
    login_as(make.focal_point("UGA"))
    data = draft_form(team)
    data["base_version"] = "0123456789abcdef0123"
    assert client.post(f"/reviews/{team['review'].id}/report/edit", data=data).status_code == 404


def test_same_recommendation_twice_is_refused_with_the_form_kept(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations"
    assert client.post(base, data=recommendation_data(team)).status_code == 302
    twice = client.post(base, data=recommendation_data(team, text="  Vet   senior\nofficers. "))
    assert twice.status_code == 422
    text = page_text(twice)
    assert "This recommendation is already in the report." in text
    assert "Vet   senior\nofficers." in text
    assert db.session.scalar(select(func.count(Recommendation.id))) == 1
    # the same text on another section is another recommendation
    other = client.post(base, data=recommendation_data(team, section=2))
    assert other.status_code == 302
    assert db.session.scalar(select(func.count(Recommendation.id))) == 2


def test_double_click_on_add_recommendation_adds_it_once(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report"
    data = draft_form(team)
    data.update(recommendation_data(team), base_version=page_version(client.get(f"{base}/edit")))
    first = client.post(f"{base}/recommendations", data=data)
    second = client.post(f"{base}/recommendations", data=data)
    assert (first.status_code, second.status_code) == (302, 409)  # the draft moved on
    data["base_version"] = page_version(second)
    third = client.post(f"{base}/recommendations", data=data)  # "save again"
    assert third.status_code == 422
    assert "This recommendation is already in the report." in page_text(third)
    assert db.session.scalar(select(func.count(Recommendation.id))) == 1


def test_editing_a_recommendation_into_a_duplicate_is_refused(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations"
    client.post(base, data=recommendation_data(team))
    client.post(base, data=recommendation_data(team, text="Second one."))
    second = db.session.scalar(select(Recommendation).where(Recommendation.text == "Second one."))
    page = client.post(f"{base}/{second.id}", data=recommendation_data(team))
    assert page.status_code == 422
    assert "This recommendation is already in the report." in page_text(page)
    db.session.refresh(second)
    assert second.text == "Second one."


@pytest.mark.parametrize("target_date", ["1999-01-01", "2026-12-31"])
def test_target_date_before_the_cycle_start_is_refused(client, team, login_as, db, target_date):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations"
    page = client.post(base, data=recommendation_data(team, target_date=target_date))
    assert page.status_code == 422
    text = page_text(page)
    assert "The target date cannot be before the start of the cycle (1 Jan 2027)." in text
    assert "Vet senior officers." in text
    assert db.session.scalar(select(func.count(Recommendation.id))) == 0
    assert (
        client.post(base, data=recommendation_data(team, target_date="2027-01-01")).status_code
        == 302
    )
    rec_id = db.session.scalar(select(Recommendation.id))
    edited = client.post(
        f"{base}/{rec_id}", data=recommendation_data(team, target_date=target_date)
    )
    assert edited.status_code == 422
    assert "The target date cannot be before the start of the cycle" in page_text(edited)


def test_second_tab_editing_a_recommendation_is_refused_then_resaved(client, team, login_as, db):
    login_as(team["lead"])
    base = f"/reviews/{team['review'].id}/report/recommendations"
    client.post(base, data=recommendation_data(team))
    rec_id = db.session.scalar(select(Recommendation.id))
    tab_one = page_version(client.get(f"{base}/{rec_id}"))
    tab_two = page_version(client.get(f"{base}/{rec_id}"))
    data = recommendation_data(team, text="Edited in tab two.", base_version=tab_two)
    assert client.post(f"{base}/{rec_id}", data=data).status_code == 302
    data = recommendation_data(team, text="Edited in tab one.", base_version=tab_one)
    refused = client.post(f"{base}/{rec_id}", data=data)
    assert refused.status_code == 409
    assert "Edited in tab one." in page_text(refused)
    db.session.expire_all()
    assert db.session.scalar(select(Recommendation.text)) == "Edited in tab two."
    data["base_version"] = page_version(refused)
    assert client.post(f"{base}/{rec_id}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Recommendation.text)) == "Edited in tab one."


def test_submitting_the_draft_saves_what_was_typed_first(client, team, login_as, db):
    review = team["review"]
    for assignment in (team["lead_a"], team["member_a"]):
        assignment.status = A.SUBMITTED
    complete_report(db, team, R.EVALUATION)
    login_as(team["lead"])
    data = draft_form(team)
    data["executive_summary"] = "Typed just before submitting."
    response = client.post(f"/reviews/{review.id}/report/submit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == R.FACTUAL_CHECK
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    assert report.executive_summary == "Typed just before submitting."


def test_a_refused_submission_still_keeps_the_typed_draft(client, team, login_as, db):
    review = team["review"]
    login_as(team["lead"])
    data = draft_form(team, skip=3)  # three sections without a consensus rating
    data["executive_summary"] = "Half-way summary."
    response = client.post(f"/reviews/{review.id}/report/submit", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not submitted." in body and "Half-way summary." in body
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == R.EVALUATION
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    assert report.executive_summary == "Half-way summary."


def test_the_same_factual_comment_posted_twice_is_recorded_once(client, team, make, login_as, db):
    """A double click, or "back" and send again, does not duplicate a comment (nor its annex row);
    a comment written again after another one is a deliberate repeat and is recorded."""
    complete_report(db, team)
    focal_point = make.focal_point("KEN")
    login_as(focal_point)
    url = f"/reviews/{team['review'].id}/report/comments"
    same = {"section_id": "", "body": "The police act was amended in 2026."}
    assert client.post(url, data=same).status_code == 302
    second = client.post(url, data=same)
    assert second.status_code == 302
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "This comment is already recorded." in page
    assert client.post(url, data=same).status_code == 302
    assert db.session.scalar(select(func.count(FactualComment.id))) == 1
    # the same text on a section is another comment; so is the text sent again after it
    section = {"section_id": str(team["sections"][1].id), "body": same["body"]}
    assert client.post(url, data=section).status_code == 302
    assert client.post(url, data=same).status_code == 302
    assert db.session.scalar(select(func.count(FactualComment.id))) == 3
    # another focal point of the state may send the same text
    login_as(make.focal_point("KEN"))
    assert client.post(url, data=same).status_code == 302
    assert db.session.scalar(select(func.count(FactualComment.id))) == 4


def test_pages_load_the_script_disabling_a_posted_forms_buttons(client, team, make, login_as, db):
    complete_report(db, team)
    login_as(make.focal_point("KEN"))
    page = client.get(f"/reviews/{team['review'].id}/report").get_data(as_text=True)
    assert "js/submit-once.js" in page
    script = client.get("/static/js/submit-once.js")
    assert script.status_code == 200
    assert b"data-autosave-url" in script.data  # autosaving forms keep their own sequencing
    script.close()


def test_long_text_without_spaces_wraps_inside_its_box(client, team, make, login_as, db):
    """A 300-character word in a factual comment is shown in a block that may break it anywhere
    (pillars.css), so it does not overflow the report page or the published annex."""
    complete_report(db, team)
    login_as(make.focal_point("KEN"))
    url = f"/reviews/{team['review'].id}/report"
    assert client.post(f"{url}/comments", data={"section_id": "", "body": "z" * 300}).status_code
    page = client.get(url).get_data(as_text=True)
    holder = re.search(r'<(\w+)[^>]*class="([^"]*)"[^>]*>\s*' + "z" * 300, page)
    assert holder is not None
    css = client.get("/static/css/pillars.css")
    text = re.sub(r"/\*.*?\*/", "", css.get_data(as_text=True), flags=re.S)
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", text)
    css.close()
    wrapping = {
        selector.strip()
        for selectors, body in rules
        if re.search(r"overflow-wrap:\s*anywhere", body)
        for selector in selectors.split(",")
    }
    assert {".text-pre", "dd", ".card-body", ".comment-box"} <= wrapping
    # cells keep whole short words (no "Hig-h" in a squeezed column) but break a long one
    assert any(
        "td" in [s.strip() for s in selectors.split(",")]
        and re.search(r"overflow-wrap:\s*break-word", body)
        for selectors, body in rules
    )
    assert wrapping & {f".{c}" for c in holder.group(2).split()} or holder.group(1) in wrapping


def test_the_leads_consensus_rating_is_prefilled_where_the_whole_team_agrees(
    client, team, login_as, db
):
    submitted_evaluation(db, team, "member")
    submitted_evaluation(db, team, "lead", submit=False)
    login_as(team["lead"])
    url = f"/reviews/{team['review'].id}/report/edit"
    first, second = team["sections"][0], team["sections"][1]

    def checked(page: str, section) -> list[str]:
        return re.findall(
            rf'<input[^>]*checked[^>]*name="consensus_{section.id}"[^>]*value="(\d)"'
            rf'|<input[^>]*name="consensus_{section.id}"[^>]*value="(\d)"[^>]*checked',
            page,
        )

    page = client.get(url).get_data(as_text=True)
    assert checked(page, first) == []  # the lead has not submitted: no team agreement yet
    lead_eval = db.session.scalar(
        select(Evaluation).where(Evaluation.assignment_id == team["lead_a"].id)
    )
    for row in lead_eval.sections:
        if row.section_id == second.id:
            row.rating = 3  # the team disagrees on the second section
    db.session.commit()
    apply_transition(team["lead"], team["lead_a"], "submit_evaluation")
    page = client.get(url).get_data(as_text=True)
    assert [a or b for a, b in checked(page, first)] == ["2"]
    assert checked(page, second) == []
