"""National action plans (issue 17): measures answering several recommendations, institutions,
indicators with dated values, progress with evidence, what is late, who sees the plan (pages,
exports, public), and the roll-up across states."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.models import (
    Addressee,
    EvidenceFile,
    Indicator,
    IndicatorValue,
    Measure,
    MeasureProgress,
    Priority,
    Recommendation,
    Response,
    ResponsePosition,
)
from app.services import action_plan as service
from app.services import publication
from tests.factories import prepared_review
from workflows import ReviewStatus

BUDGET = "KES 12 million, vote 1021"


def _second_recommendation(db, review, text="Train police officers in human rights."):
    rec = Recommendation(
        review_id=review.id,
        section_id=review.cycle.framework.sections[0].id,
        text=text,
        priority=Priority.MEDIUM,
        action_category=4,
        addressee=Addressee.STATE,
    )
    db.session.add(rec)
    db.session.flush()
    db.session.add(
        Response(
            recommendation_id=rec.id,
            position=ResponsePosition.SUPPORTED,
            explanation="Agreed.",
            planned_action="Curriculum.",
            responsible_institution="Police academy",
            target_date=date(2028, 1, 1),
        )
    )
    db.session.commit()
    return rec


@pytest.fixture
def plan(db, make):
    """Kenya's review in follow-up with two supported recommendations and its focal point."""
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    recs = list(
        db.session.scalars(
            select(Recommendation).where(Recommendation.review_id == prepared.review.id)
        )
    )
    recs.append(_second_recommendation(db, prepared.review))
    prepared.recs = recs
    return prepared


def _measure(db, prepared, **extra):
    fp = prepared.identities["focal_point"]
    lead = service.add_institution(prepared.review.state_id, "Ministry of Interior", fp)
    values = {
        "title": "Police Oversight Bill",
        "recommendation_ids": [r.id for r in prepared.recs],
        "lead_institution_id": lead.id,
        "budget_line": BUDGET,
        "start_date": date(2027, 1, 1),
        "due_date": date(2027, 6, 30),
    }
    values.update(extra)
    measure = service.save_measure(prepared.review, fp, **values)
    db.session.commit()
    return measure


def test_focal_point_builds_a_measure_answering_two_recommendations_in_the_browser(
    app, db, plan, login_as
):
    fp = plan.identities["focal_point"]
    client = login_as(fp)
    url = f"/reviews/{plan.review.id}/action-plan"
    assert (
        client.post(f"{url}/institutions", data={"name": "Ministry of Interior"}).status_code == 302
    )
    inst = service.institutions_of(plan.review.state_id)[0]
    response = client.post(
        f"{url}/measures/new",
        data={
            "title": "Police Oversight Bill",
            "description": "Draft and table the bill.",
            "recommendations": [str(r.id) for r in plan.recs],
            "lead_institution": str(inst.id),
            "start_date": "2027-01-01",
            "due_date": "2027-12-31",
            "budget_line": BUDGET,
            "status": "planned",
        },
    )
    assert response.status_code == 302
    measure = db.session.scalar(select(Measure))
    assert {r.id for r in measure.recommendations} == {r.id for r in plan.recs}
    page = client.get(url).get_data(as_text=True)
    assert page.count("Police Oversight Bill") == 2  # under each recommendation it answers
    assert "Lead: Ministry of Interior" in page
    assert "supported recommendation has no measure" not in page


def test_a_refused_measure_keeps_what_was_typed(db, plan, login_as):
    client = login_as(plan.identities["focal_point"])
    response = client.post(
        f"/reviews/{plan.review.id}/action-plan/measures/new",
        data={"title": "Typed title kept", "description": "Typed description", "status": "planned"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Typed title kept" in page and "Typed description" in page
    assert "Choose at least one recommendation" in page
    assert db.session.scalar(select(func.count(Measure.id))) == 0


def test_a_measure_cannot_answer_another_reviews_recommendation(db, make, plan):
    other = prepared_review(make, "GHA") if False else None  # noqa: F841 (Ghana has no review)
    foreign_review = make.review("NGA", plan.review.cycle)
    foreign = _second_recommendation(db, foreign_review, "Nigeria's recommendation.")
    with pytest.raises(service.PlanError, match="only answer recommendations of this review"):
        service.save_measure(
            plan.review,
            plan.identities["focal_point"],
            title="Mixed",
            recommendation_ids=[plan.recs[0].id, foreign.id],
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count(Measure.id))) == 0


def test_a_measure_with_progress_cannot_be_deleted_only_cancelled_with_a_reason(db, plan, login_as):
    measure = _measure(db, plan)
    client = login_as(plan.identities["focal_point"])
    base = f"/reviews/{plan.review.id}/action-plan/measures/{measure.id}"
    assert (
        client.post(
            f"{base}/progress", data={"narrative": "Bill drafted.", "status": "ongoing"}
        ).status_code
        == 302
    )
    response = client.post(f"{base}/delete", follow_redirects=True)
    assert "cannot be deleted; cancel it instead" in response.get_data(as_text=True)
    assert db.session.get(Measure, measure.id) is not None
    with pytest.raises(service.PlanError, match="Say why"):
        service.save_measure(
            plan.review,
            plan.identities["focal_point"],
            measure=measure,
            title=measure.title,
            recommendation_ids=[plan.recs[0].id],
            status="cancelled",
        )
    db.session.rollback()


def test_a_measure_without_progress_can_be_deleted(db, plan, login_as):
    measure = _measure(db, plan)
    client = login_as(plan.identities["focal_point"])
    url = f"/reviews/{plan.review.id}/action-plan/measures/{measure.id}/delete"
    assert client.post(url).status_code == 302
    assert db.session.scalar(select(func.count(Measure.id))) == 0
    assert len(plan.recs) == db.session.scalar(select(func.count(Recommendation.id)))


def test_progress_records_indicator_values_with_evidence_and_keeps_history(
    app, db, plan, login_as, frozen_now
):
    frozen_now(datetime(2027, 9, 1, 9, 0, tzinfo=UTC))
    measure = _measure(db, plan)
    fp = plan.identities["focal_point"]
    indicator = service.add_indicator(
        measure,
        fp,
        name="Complaints investigated",
        unit="cases",
        baseline="0",
        target="200",
        frequency="quarterly",
    )
    db.session.commit()
    client = login_as(fp)
    base = f"/reviews/{plan.review.id}/action-plan/measures/{measure.id}"
    for value, day in (("40", "2027-03-31"), ("95", "2027-06-30")):
        response = client.post(
            f"{base}/progress",
            data={
                "narrative": f"Quarter to {day}.",
                "status": "ongoing",
                "measured_on": day,
                f"value-{indicator.id}": value,
                "files": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), f"rapport-{day}.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    values = db.session.scalars(select(IndicatorValue.value).order_by(IndicatorValue.id)).all()
    assert values == [40.0, 95.0]
    assert db.session.scalar(select(func.count(MeasureProgress.id))) == 2
    files = db.session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)).all()
    assert [f.original_name for f in files] == ["rapport-2027-03-31.pdf", "rapport-2027-06-30.pdf"]
    assert all(f.storage_key not in f.original_name for f in files)
    page = client.get(base).get_data(as_text=True)
    assert "rapport-2027-06-30.pdf" in page and "95 cases" in page and "40 cases" in page
    download = client.get(f"/reviews/{plan.review.id}/action-plan/files/{files[0].id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    # a file that is not what its name says is refused, nothing else of the entry is stored
    bad = client.post(
        f"{base}/progress",
        data={
            "narrative": "With a fake file.",
            "status": "ongoing",
            f"value-{indicator.id}": "120",
            "files": (io.BytesIO(b"MZ\x90\x00binary"), "report.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "With a fake file." in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 2


def test_late_measures_and_indicator_reports_are_flagged(db, plan, login_as, frozen_now):
    frozen_now(datetime(2027, 9, 1, 9, 0, tzinfo=UTC))
    measure = _measure(db, plan, due_date=date(2027, 6, 30))
    service.add_indicator(
        measure, plan.identities["focal_point"], name="Officers trained", frequency="quarterly"
    )
    db.session.commit()
    found = service.plan_of(plan.review)
    assert measure.id in found.overdue_measures
    assert len(found.overdue_indicators) == 1  # first quarterly report was due 1 April 2027
    page = login_as(plan.identities["focal_point"]).get(
        f"/reviews/{plan.review.id}/action-plan?view=timeline"
    )
    text = page.get_data(as_text=True)
    assert "1 measure overdue" in text and "1 indicator report overdue" in text


def test_supported_recommendations_without_measure_are_named(db, plan, login_as):
    _measure(db, plan, recommendation_ids=[plan.recs[0].id])
    page = (
        login_as(plan.identities["focal_point"])
        .get(f"/reviews/{plan.review.id}/action-plan")
        .get_data(as_text=True)
    )
    assert "1 supported recommendation has no measure yet." in page


def test_a_stale_measure_edit_is_a_conflict_and_keeps_the_typed_text(db, plan, login_as):
    measure = _measure(db, plan)
    old_version = measure.version_id
    service.save_measure(
        plan.review,
        plan.identities["focal_point"],
        measure=measure,
        title="Renamed elsewhere",
        recommendation_ids=[plan.recs[0].id],
        version=old_version,
    )
    db.session.commit()
    client = login_as(plan.identities["focal_point"])
    response = client.post(
        f"/reviews/{plan.review.id}/action-plan/measures/{measure.id}/edit",
        data={
            "title": "My typed title",
            "recommendations": [str(plan.recs[0].id)],
            "status": "ongoing",
            "version": str(old_version),
        },
    )
    assert response.status_code == 409
    assert "My typed title" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Measure, measure.id).title == "Renamed elsewhere"


# --- who sees the plan ----------------------------------------------------------------------

PAGES = ("", "?view=institution", "/export.csv", "/export.xlsx")


@pytest.mark.parametrize(
    "identity", ["other_focal_point", "lead_reviewer", "member_reviewer", "unassigned_reviewer"]
)
def test_other_states_and_reviewers_see_nothing_of_the_plan(db, plan, login_as, identity):
    measure = _measure(db, plan)
    client = login_as(plan.identities[identity])
    base = f"/reviews/{plan.review.id}/action-plan"
    for path in (*PAGES, f"/measures/{measure.id}"):
        response = client.get(base + path)
        assert response.status_code == 404, (identity, path)
        assert b"Police Oversight Bill" not in response.data
    assert client.post(f"{base}/measures/new", data={"title": "x"}).status_code == 404


def test_anonymous_is_sent_to_sign_in(db, plan, client):
    _measure(db, plan)
    for path in PAGES:
        response = client.get(f"/reviews/{plan.review.id}/action-plan{path}")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("identity", ["focal_point", "secretariat"])
def test_state_and_secretariat_export_the_plan_with_its_budget(db, plan, login_as, identity):
    _measure(db, plan)
    client = login_as(plan.identities[identity])
    csv = client.get(f"/reviews/{plan.review.id}/action-plan/export.csv")
    assert csv.status_code == 200
    text = csv.data.decode("utf-8-sig")
    assert "Police Oversight Bill" in text and BUDGET in text and "Ministry of Interior" in text
    xlsx = client.get(f"/reviews/{plan.review.id}/action-plan/export.xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][1] == "Measure" and rows[1][1] == "Police Oversight Bill"
    assert BUDGET in rows[1]


def test_only_the_secretariat_edits_nothing_and_the_state_edits_from_response_on(db, plan):
    from app.access import can

    fp, sec = plan.identities["focal_point"], plan.identities["secretariat"]
    for status, editable in (
        (ReviewStatus.FACTUAL_CHECK, False),
        (ReviewStatus.RESPONSE, True),
        (ReviewStatus.FOLLOW_UP, True),
        (ReviewStatus.ENHANCED_FOLLOW_UP, True),
        (ReviewStatus.CLOSED, False),
    ):
        plan.review.status = status
        assert can(fp, "action_plan.edit", plan.review) is editable, status
        assert can(sec, "action_plan.edit", plan.review) is False
        assert can(sec, "action_plan.view", plan.review) is True
    plan.review.status = ReviewStatus.FACTUAL_CHECK
    assert can(fp, "action_plan.view", plan.review) is False


@pytest.mark.parametrize(("level", "shown"), [("full", True), ("summary", False), ("none", False)])
def test_public_plan_follows_the_states_consent_and_never_shows_the_budget(
    db, plan, client, level, shown
):
    from app.models import Report

    _measure(db, plan)
    report = db.session.scalar(select(Report).where(Report.review_id == plan.review.id))
    report.adopted_at = datetime(2027, 3, 1, tzinfo=UTC)
    publication.set_consent(plan.review, level, plan.identities["focal_point"])
    db.session.commit()
    response = client.get(f"/public/reports/{plan.review.id}/action-plan")
    if not shown:
        assert response.status_code == 404
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Police Oversight Bill" in page
    assert BUDGET not in page and "Budget" not in page
    report = client.get(f"/public/reports/{plan.review.id}").get_data(as_text=True)
    assert f"/public/reports/{plan.review.id}/action-plan" in report


def test_secretariat_sees_measures_rolled_up_per_state_and_section(db, plan, login_as):
    _measure(db, plan)
    _measure(
        db,
        plan,
        title="Training curriculum",
        recommendation_ids=[plan.recs[1].id],
        due_date=date(2099, 1, 1),
    )
    rows = service.roll_up()
    by_section = {row["section"]: row for row in rows}
    sections = {r.section.code for r in plan.recs}
    assert set(by_section) == sections
    assert sum(row["measures"] for row in rows) == 3  # the bill counts in both sections
    page = login_as(plan.identities["secretariat"]).get("/monitoring/action-plans")
    assert page.status_code == 200 and "Kenya" in page.get_data(as_text=True)
    assert (
        login_as(plan.identities["focal_point"]).get("/monitoring/action-plans").status_code == 403
    )


def test_indicator_and_milestone_input_is_checked(db, plan):
    measure = _measure(db, plan)
    fp = plan.identities["focal_point"]
    with pytest.raises(service.PlanError, match="Give a number"):
        service.add_indicator(measure, fp, name="x", baseline="a lot")
    with pytest.raises(service.PlanError, match="date"):
        service.add_milestone(measure, fp, title="Bill tabled", due_date=None)
    assert db.session.scalar(select(func.count(Indicator.id))) == 0


# --- reminders ------------------------------------------------------------------------------


def test_measure_and_indicator_reminders_fire_once_per_offset(db, plan, frozen_now):
    from app.models import Notification
    from app.services import reminders

    plan.review.cycle.status = "open"
    db.session.commit()
    measure = _measure(db, plan, start_date=date(2027, 1, 1), due_date=date(2027, 6, 30))
    service.add_indicator(
        measure, plan.identities["focal_point"], name="Officers trained", frequency="semiannual"
    )
    db.session.commit()  # next indicator report due 1 July 2027

    def pass_at(instant):
        frozen_now(instant)
        result = reminders.run_pass(instant)
        db.session.commit()
        return result

    def plan_keys():
        return sorted(
            key
            for key in db.session.scalars(select(Notification.dedupe_key))
            if key and ("measure-" in key or "indicator-" in key)
        )

    def offsets():
        return sorted(
            (k.split(":")[2].split("-")[0], int(k.rsplit(":", 1)[1])) for k in plan_keys()
        )

    # the measure is due in 7 days, the indicator report (1 July) in a little more
    pass_at(datetime(2027, 6, 24, 12, 0, tzinfo=UTC))
    assert offsets() == [("indicator", 14), ("measure", 7)]
    pass_at(datetime(2027, 6, 24, 12, 5, tzinfo=UTC))  # the same pass again: nothing new
    assert offsets() == [("indicator", 14), ("measure", 7)]
    pass_at(datetime(2027, 6, 30, 8, 0, tzinfo=UTC))
    assert offsets() == [("indicator", 7), ("indicator", 14), ("measure", 1), ("measure", 7)]
    note = db.session.scalar(select(Notification).where(Notification.dedupe_key == plan_keys()[-1]))
    assert note.recipient_id == plan.identities["focal_point"].id
    assert "/action-plan" in note.body_text
    # completing the measure stops its reminders; nothing escalates to the secretariat
    service.report_progress(
        measure, plan.identities["focal_point"], narrative="Done.", status="completed"
    )
    db.session.commit()
    before = len(plan_keys())
    pass_at(datetime(2027, 7, 1, 23, 0, tzinfo=UTC))
    assert len(plan_keys()) == before
    assert not [k for k in plan_keys() if k.startswith("overdue")]
