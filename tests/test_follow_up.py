"""The state's response to recommendations, progress updates and implementation assessments."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.models import (
    Addressee,
    Assessment,
    Priority,
    ProgressUpdate,
    Recommendation,
    Response,
    TransitionLog,
)
from app.services import follow_up as service
from workflows import AssignmentStatus, ReviewStatus


@pytest.fixture
def review(make):
    cycle = make.cycle(time_zone="Africa/Nairobi")
    return make.review("KEN", cycle)


@pytest.fixture
def fp(make):
    return make.focal_point("KEN")


@pytest.fixture
def recs(db, review):
    """Two recommendations, in sections 4 and 2 (shown in section order)."""
    sections = {s.number: s for s in review.cycle.framework.sections}
    rows = [
        Recommendation(
            review_id=review.id,
            section_id=sections[4].id,
            text="Guarantee the tenure of judges of the High Court.",
            priority=Priority.HIGH,
            action_category=5,
            addressee=Addressee.STATE,
            target_date=date(2028, 6, 30),
        ),
        Recommendation(
            review_id=review.id,
            section_id=sections[2].id,
            text="Establish an independent police oversight body.",
            priority=Priority.MEDIUM,
            action_category=4,
            addressee=Addressee.STATE,
        ),
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _hidden(page: str) -> dict[str, str]:
    """The hidden inputs of a page (the versions it was rendered from), by name."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]*)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag)
            fields[name] = html.unescape(value.group(1)) if value else ""
    return fields


def _open(client, url) -> dict[str, str]:
    """Open the page in a "tab": its hidden versions, to post back later."""
    response = client.get(url)
    assert response.status_code == 200
    return _hidden(response.get_data(as_text=True))


def _set_status(db, review, status):
    review.status = status
    db.session.commit()


def _response_of(db, rec):
    db.session.expire_all()
    return db.session.scalar(select(Response).where(Response.recommendation_id == rec.id))


# --- response -------------------------------------------------------------------------------


def test_response_page_lists_recommendations_by_section(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.RESPONSE)
    login_as(fp)
    page = client.get(f"/reviews/{review.id}/response").get_data(as_text=True)
    assert page.index("Establish an independent police") < page.index("Guarantee the tenure")
    assert "Specific action — calls for a specific, measurable action" in page
    assert "General action" in page
    assert "30 Jun 2028" in page
    assert "Supported" in page and "Noted" in page
    assert "Save and submit the response" in page


def test_response_partial_save_then_submit_refused_then_accepted(
    client, db, login_as, review, recs, fp
):
    _set_status(db, review, ReviewStatus.RESPONSE)
    first, second = recs
    login_as(fp)
    url = f"/reviews/{review.id}/response"
    saved = client.post(
        url,
        data={
            f"r{first.id}-position": "supported",
            f"r{first.id}-explanation": "The judicial service bill is before parliament.",
            f"r{first.id}-target_date": "2028-03-31",
            f"r{second.id}-planned_action": "Draft a bill on police oversight.",
            "save": "Save",
        },
    )
    assert saved.status_code == 302
    assert "Saved." in client.get(url).get_data(as_text=True)
    response = _response_of(db, first)
    assert response.position == "supported"
    assert response.target_date == date(2028, 3, 31)
    assert response.updated_by_id == fp.id
    draft = _response_of(db, second)
    assert draft.position is None and draft.planned_action == "Draft a bill on police oversight."

    refused = client.post(
        url,
        data={
            f"r{second.id}-responsible_institution": "Ministry of Interior",
            "expected_status": "response",
            "submit": "1",
        },
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "1 recommendation has no response yet." in text
    assert "Ministry of Interior" in text  # the typed text is kept
    db.session.expire_all()
    assert review.status == ReviewStatus.RESPONSE

    # every recommendation has a position now, but the supported one lacks parts (issue 5:
    # "submission needs all"); the noted one is complete with its explanation
    incomplete = client.post(
        url,
        data={
            f"r{second.id}-position": "noted",
            f"r{second.id}-explanation": "An oversight authority already exists.",
            "expected_status": "response",
            "submit": "1",
        },
    )
    assert incomplete.status_code == 422
    assert re.search(
        r"Complete every response before submitting; missing: \d+\.1 "
        r"\(planned action, responsible institution\)\.",
        incomplete.get_data(as_text=True),
    )
    db.session.expire_all()
    assert review.status == ReviewStatus.RESPONSE

    accepted = client.post(
        url,
        data={
            f"r{first.id}-position": "supported",
            f"r{first.id}-explanation": "The judicial service bill is before parliament.",
            f"r{first.id}-planned_action": "Adopt the judicial service bill.",
            f"r{first.id}-responsible_institution": "Ministry of Justice",
            f"r{first.id}-target_date": "2028-03-31",
            f"r{second.id}-position": "noted",
            f"r{second.id}-explanation": "An oversight authority already exists.",
            "expected_status": "response",
            "submit": "1",
        },
    )
    assert accepted.status_code == 302
    db.session.expire_all()
    assert review.status == ReviewStatus.FOLLOW_UP
    assert _response_of(db, second).position == "noted"
    assert db.session.scalar(select(TransitionLog).where(TransitionLog.event == "submit_response"))
    page = client.get(url).get_data(as_text=True)
    assert "An oversight authority already exists." in page
    assert "Save and submit" not in page


def test_response_invalid_date_keeps_text_and_saves_nothing(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.RESPONSE)
    rec = recs[0]
    login_as(fp)
    result = client.post(
        f"/reviews/{review.id}/response",
        data={
            f"r{rec.id}-explanation": "Une explication détaillée.",
            f"r{rec.id}-target_date": "31/02/2028",
            "save": "Save",
        },
    )
    assert result.status_code == 422
    text = result.get_data(as_text=True)
    assert "Not a valid date value" in text
    assert "Une explication détaillée." in text and "31/02/2028" in text
    assert _response_of(db, rec) is None


def test_response_is_read_only_after_submission_and_for_others(
    client, db, login_as, make, review, recs, fp
):
    _set_status(db, review, ReviewStatus.RESPONSE)
    url = f"/reviews/{review.id}/response"
    data = {f"r{recs[0].id}-position": "supported", "save": "Save"}
    login_as(make.secretariat())
    assert client.get(url).status_code == 200
    assert client.post(url, data=data).status_code == 403
    member = make.reviewer("FRA")
    make.assignment(review, member, status=AssignmentStatus.SUBMITTED)
    login_as(member)
    assert client.post(url, data=data).status_code == 403
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    login_as(fp)
    assert client.post(url, data=data).status_code == 409  # the focal point's text is shown
    assert _response_of(db, recs[0]) is None


def test_stale_response_save_is_refused_and_keeps_the_typed_text(
    app, client, db, login_as, make, review, recs, fp
):
    """Two focal points of the state open the response; A saves; B's save of the page as loaded
    is refused (409) instead of wiping A's text; B's deliberate second save goes through."""
    _set_status(db, review, ReviewStatus.RESPONSE)
    first, second = recs
    url = f"/reviews/{review.id}/response"
    colleague = make.focal_point("KEN")
    other_tab = login_as(colleague, on=app.test_client())
    login_as(fp)
    a_page = _open(client, url)
    b_page = _open(other_tab, url)

    saved = client.post(
        url,
        data={
            **a_page,
            f"r{first.id}-position": "supported",
            f"r{first.id}-explanation": "Explanation saved by the first focal point.",
            "save": "Save",
        },
    )
    assert saved.status_code == 302

    b_typed = {
        f"r{first.id}-explanation": "Explanation typed by the second focal point.",
        f"r{second.id}-planned_action": "Plan typed by the second.",
        "save": "Save",
    }
    refused = other_tab.post(url, data={**b_page, **b_typed})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Someone saved the response after you opened this page." in page
    assert "Save again to replace it." in page
    assert "Explanation typed by the second focal point." in page
    assert "Plan typed by the second." in page
    assert "Saved meanwhile (the current saved text):" in page
    assert "Explanation saved by the first focal point." in page
    assert page.count("Saved meanwhile (the current saved text):") == 1  # only the changed one
    assert _response_of(db, first).explanation == "Explanation saved by the first focal point."
    assert _response_of(db, second) is None

    again = _hidden(page)
    assert again["base_version"] != b_page["base_version"]
    assert other_tab.post(url, data={**again, **b_typed}).status_code == 302
    response = _response_of(db, first)
    assert response.explanation == "Explanation typed by the second focal point."
    assert response.updated_by_id == colleague.id
    assert _response_of(db, second).planned_action == "Plan typed by the second."


def test_double_click_on_response_save_is_not_a_conflict(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.RESPONSE)
    url = f"/reviews/{review.id}/response"
    login_as(fp)
    tab = _open(client, url)
    data = {**tab, f"r{recs[0].id}-explanation": "Clicked twice.", "save": "Save"}
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302
    assert _response_of(db, recs[0]).explanation == "Clicked twice."


def test_response_save_after_submission_shows_the_typed_text_read_only(
    client, db, login_as, review, recs, fp
):
    _set_status(db, review, ReviewStatus.RESPONSE)
    url = f"/reviews/{review.id}/response"
    login_as(fp)
    tab = _open(client, url)
    _set_status(db, review, ReviewStatus.FOLLOW_UP)  # submitted from another tab
    refused = client.post(
        url,
        data={
            **tab,
            f"r{recs[0].id}-explanation": "A long explanation typed too late.",
            "save": "Save",
        },
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "This response was submitted and can no longer be changed" in page
    assert "your unsaved text is shown below so you can copy it" in page
    assert re.search(r"<textarea[^>]*readonly[^>]*>\s*A long explanation typed too late.", page)
    assert "Save and submit the response" not in page
    assert _response_of(db, recs[0]) is None


def test_second_click_on_submit_response_is_not_a_403(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.RESPONSE)
    url = f"/reviews/{review.id}/response"
    login_as(fp)
    tab = _open(client, url)
    data = {**tab, "submit": "Save and submit the response"}
    for rec in recs:
        data[f"r{rec.id}-position"] = "supported"
        data[f"r{rec.id}-explanation"] = f"Supported: {rec.text}"
        data[f"r{rec.id}-planned_action"] = "A bill."
        data[f"r{rec.id}-responsible_institution"] = "Ministry of Justice"
        data[f"r{rec.id}-target_date"] = "2028-06-30"
    assert client.post(url, data=data).status_code == 302
    second = client.post(url, data=data)
    assert second.status_code == 302
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "The response has already been submitted; nothing you typed was lost." in page
    db.session.expire_all()
    assert review.status == ReviewStatus.FOLLOW_UP
    logs = db.session.scalars(
        select(TransitionLog).where(TransitionLog.event == "submit_response")
    ).all()
    assert len(logs) == 1


# --- follow-up ------------------------------------------------------------------------------


def test_focal_point_posts_progress_update_shown_in_cycle_zone(
    client, db, login_as, frozen_now, review, recs, fp
):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    rec = recs[0]
    frozen_now(datetime(2028, 1, 10, 22, 30, tzinfo=UTC))
    login_as(fp)
    posted = client.post(
        f"/reviews/{review.id}/follow-up/{rec.id}/progress",
        data={
            f"p{rec.id}-status": "in_progress",
            f"p{rec.id}-narrative": "The bill passed its second reading.",
        },
    )
    assert posted.status_code == 302
    update = db.session.scalar(select(ProgressUpdate))
    assert (update.status, update.author_id) == ("in_progress", fp.id)
    page = client.get(f"/reviews/{review.id}/follow-up").get_data(as_text=True)
    assert "The bill passed its second reading." in page
    assert "11 Jan 2028, 01:30 (Africa/Nairobi)" in page
    assert "Assess implementation" not in page


def test_secretariat_posts_assessment_and_histories_are_newest_first(
    client, db, login_as, make, frozen_now, review, recs
):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    rec = recs[0]
    login_as(make.secretariat())
    url = f"/reviews/{review.id}/follow-up/{rec.id}/assessment"
    frozen_now(datetime(2028, 2, 1, 9, 0, tzinfo=UTC))
    first = client.post(
        url, data={f"a{rec.id}-status": "not_implemented", f"a{rec.id}-note": "No bill tabled yet."}
    )
    assert first.status_code == 302
    frozen_now(datetime(2028, 9, 1, 9, 0, tzinfo=UTC))
    client.post(
        url,
        data={
            f"a{rec.id}-status": "partially_implemented",
            f"a{rec.id}-note": "Bill adopted; not yet in force.",
        },
    )
    assert len(db.session.scalars(select(Assessment)).all()) == 2
    page = client.get(f"/reviews/{review.id}/follow-up").get_data(as_text=True)
    assert page.index("Bill adopted; not yet in force.") < page.index("No bill tabled yet.")
    assert "Partially implemented" in page
    assert "Report progress" not in page


def test_invalid_progress_update_keeps_narrative(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.ENHANCED_FOLLOW_UP)
    rec = recs[1]
    login_as(fp)
    result = client.post(
        f"/reviews/{review.id}/follow-up/{rec.id}/progress",
        data={
            f"p{rec.id}-status": "",
            f"p{rec.id}-narrative": "Consultations with civil society held in March.",
        },
    )
    assert result.status_code == 422
    text = result.get_data(as_text=True)
    assert "Choose a progress status." in text
    assert "Consultations with civil society held in March." in text
    assert db.session.scalar(select(ProgressUpdate)) is None


def test_enhanced_follow_up_banner(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.ENHANCED_FOLLOW_UP)
    login_as(fp)
    page = client.get(f"/reviews/{review.id}/follow-up").get_data(as_text=True)
    assert "Enhanced follow-up." in page
    assert "Report progress" in page
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    assert "Enhanced follow-up." not in client.get(f"/reviews/{review.id}/follow-up").get_data(
        as_text=True
    )


def test_progress_refused_to_secretariat_and_reviewer_assessment_refused_to_focal_point(
    client, db, login_as, make, review, recs, fp
):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    rec = recs[0]
    progress = f"/reviews/{review.id}/follow-up/{rec.id}/progress"
    assessment = f"/reviews/{review.id}/follow-up/{rec.id}/assessment"
    progress_data = {f"p{rec.id}-status": "completed"}
    assessment_data = {f"a{rec.id}-status": "implemented"}

    login_as(fp)
    assert client.post(assessment, data=assessment_data).status_code == 403
    login_as(make.secretariat())
    assert client.post(progress, data=progress_data).status_code == 403
    member = make.reviewer("FRA")
    make.assignment(review, member, status=AssignmentStatus.SUBMITTED)
    login_as(member)
    assert client.get(f"/reviews/{review.id}/follow-up").status_code == 200
    assert client.post(progress, data=progress_data).status_code == 403
    assert client.post(assessment, data=assessment_data).status_code == 403
    assert db.session.scalar(select(ProgressUpdate)) is None
    assert db.session.scalar(select(Assessment)) is None


def test_progress_refused_outside_follow_up(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.CLOSED)
    rec = recs[0]
    login_as(fp)
    url = f"/reviews/{review.id}/follow-up/{rec.id}/progress"
    assert client.post(url, data={f"p{rec.id}-status": "completed"}).status_code == 403


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "response"),
        ("post", "response"),
        ("get", "follow-up"),
        ("post", "follow-up/{rec}/progress"),
        ("post", "follow-up/{rec}/assessment"),
    ],
)
def test_focal_point_of_another_state_gets_404(
    client, db, login_as, make, review, recs, method, path
):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    login_as(make.focal_point("GHA"))
    url = f"/reviews/{review.id}/" + path.format(rec=recs[0].id)
    assert getattr(client, method)(url, data={}).status_code == 404


def test_invited_reviewer_gets_404(client, db, login_as, make, review, recs):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    invited = make.reviewer("FRA")
    make.assignment(review, invited)
    login_as(invited)
    assert client.get(f"/reviews/{review.id}/response").status_code == 404
    assert client.get(f"/reviews/{review.id}/follow-up").status_code == 404


def test_recommendation_of_another_review_is_404(client, db, login_as, make, review, recs, fp):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    other = make.review("GHA", review.cycle)
    login_as(fp)
    url = f"/reviews/{review.id}/follow-up/{recs[0].id + 1000}/progress"
    assert client.post(url, data={}).status_code == 404
    login_as(make.focal_point("GHA"))
    url = f"/reviews/{other.id}/follow-up/{recs[0].id}/progress"
    assert client.post(url, data={}).status_code == 404


def test_focal_point_does_not_see_response_before_report_is_shared(
    client, db, login_as, review, recs, fp
):
    _set_status(db, review, ReviewStatus.EVALUATION)
    login_as(fp)
    assert client.get(f"/reviews/{review.id}/response").status_code == 404
    assert client.get(f"/reviews/{review.id}/follow-up").status_code == 404


def test_double_click_on_post_progress_update_records_it_once(
    client, db, login_as, review, recs, fp
):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    rec = recs[0]
    url = f"/reviews/{review.id}/follow-up/{rec.id}/progress"
    data = {f"p{rec.id}-status": "in_progress", f"p{rec.id}-narrative": "Bill tabled."}
    login_as(fp)
    assert client.post(url, data=data).status_code == 302
    second = client.post(url, data=data)
    assert second.status_code == 302
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "This progress update is already recorded." in page
    assert len(db.session.scalars(select(ProgressUpdate)).all()) == 1
    # a different update is recorded
    data[f"p{rec.id}-narrative"] = "Bill adopted."
    assert client.post(url, data=data).status_code == 302
    assert len(db.session.scalars(select(ProgressUpdate)).all()) == 2


def test_double_click_on_post_assessment_records_it_once(client, db, login_as, make, review, recs):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    rec = recs[0]
    url = f"/reviews/{review.id}/follow-up/{rec.id}/assessment"
    data = {f"a{rec.id}-status": "not_implemented", f"a{rec.id}-note": "No bill yet."}
    login_as(make.secretariat())
    assert client.post(url, data=data).status_code == 302
    second = client.post(url, data=data)
    assert second.status_code == 302
    assert "This assessment is already recorded." in client.get(
        second.headers["Location"]
    ).get_data(as_text=True)
    assert len(db.session.scalars(select(Assessment)).all()) == 1
    # another member of the secretariat may record the same assessment
    login_as(make.secretariat())
    assert client.post(url, data=data).status_code == 302
    assert len(db.session.scalars(select(Assessment)).all()) == 2


def test_progress_update_without_narrative_is_refused(client, db, login_as, review, recs, fp):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    rec = recs[0]
    login_as(fp)
    result = client.post(
        f"/reviews/{review.id}/follow-up/{rec.id}/progress",
        data={f"p{rec.id}-status": "completed", f"p{rec.id}-narrative": "   "},
    )
    assert result.status_code == 422
    text = result.get_data(as_text=True)
    assert "Say what has been done." in text
    assert re.search(r'<option selected value="completed">', text)  # the chosen status kept
    assert db.session.scalar(select(ProgressUpdate)) is None


def test_service_refuses_a_progress_update_without_narrative(app, db, review, recs, fp):
    _set_status(db, review, ReviewStatus.FOLLOW_UP)
    with app.test_request_context(), pytest.raises(service.FollowUpError, match="what has been"):
        service.post_progress(recs[0], "completed", " ", fp)
