"""The self-assessment screens: overview, section drafts, submission, and who may see or edit."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import event, func, select

from app.models import Answer, Question, SectionGaps, TransitionLog
from app.services import self_assessment as service
from workflows import AssignmentStatus, ReviewStatus


@pytest.fixture
def review(make):
    return make.review("KEN")


@pytest.fixture
def fp(make):
    return make.focal_point("KEN")


def _url(review, number=None):
    base = f"/reviews/{review.id}/self-assessment"
    return base if number is None else f"{base}/{number}"


def _answer(db, review, code):
    return db.session.scalar(
        select(Answer)
        .join(Question, Answer.question_id == Question.id)
        .where(Answer.review_id == review.id, Question.code == code)
    )


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


def _fill_required(db, review, user):
    """Answer every required question of the review's framework through the service."""
    for section in service.sections_of(review):
        answers = {}
        for q in section.questions:
            if not q.required:
                continue
            answers[q.code] = {
                "level": 2,
                "choice": "partial",
                "narrative": f"About {q.code}",
                "evidence": "",
            }
        service.save_section(review, section, {"answers": answers}, user)
    db.session.commit()


def test_focal_point_saves_partial_section_draft(client, db, login_as, review, fp):
    login_as(fp)
    response = client.post(
        _url(review, 2),
        data={
            "SEC-1-level": "3",
            "SEC-1-narrative": "Police présents dans 40 des 47 comtés.",
            "SEC-1-evidence": "National Police Service Act 2011",
            "capacity_gaps": "No rapid-response capacity in the north.",
            "assistance_sought": ["security_sector_reform", "other"],
            "assistance_details": "Training of rapid-response units.",
            "save": "Save draft",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(review, 2))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved." in page
    assert "Police présents dans 40 des 47 comtés." in page

    answer = _answer(db, review, "SEC-1")
    assert answer.level == 3
    assert answer.evidence == "National Police Service Act 2011"
    assert answer.updated_by_id == fp.id
    assert _answer(db, review, "SEC-2") is None  # the rest of the section stays unanswered
    gaps = db.session.scalar(select(SectionGaps).where(SectionGaps.review_id == review.id))
    assert gaps.capacity_gaps == "No rapid-response capacity in the north."
    assert gaps.assistance_sought == ["security_sector_reform", "other"]
    assert gaps.assistance_details == "Training of rapid-response units."


def test_save_and_next_section_moves_on_and_last_section_returns_to_overview(
    client, login_as, review, fp
):
    login_as(fp)
    response = client.post(_url(review, 3), data={"save_next": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(review, 4))
    response = client.post(_url(review, 11), data={"save_next": "1"})
    assert response.headers["Location"].endswith(_url(review))


def test_invalid_level_keeps_everything_typed_and_saves_nothing(client, db, login_as, review, fp):
    login_as(fp)
    response = client.post(
        _url(review, 2),
        data={
            "SEC-1-level": "7",
            "SEC-1-narrative": "A long narrative that must not be lost.",
            "SEC-2-level": "2",
            "capacity_gaps": "Gaps typed before the mistake.",
            "save": "Save draft",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved." in page
    assert "Not a valid choice" in page
    assert "A long narrative that must not be lost." in page
    assert "Gaps typed before the mistake." in page
    assert _answer(db, review, "SEC-1") is None
    assert _answer(db, review, "SEC-2") is None


def test_section_page_shows_questions_guidance_and_prefill_note(client, login_as, review, fp):
    login_as(fp)
    page = client.get(_url(review, 1)).get_data(as_text=True)
    assert "Commitments and treaty accession" in page
    assert "COM-1" in page and "COM-5" in page
    assert "<details" in page and "Guidance" in page
    assert "Expected evidence:" in page
    assert "Pre-filled from UN Treaty Collection data (2022) — please check." in page
    page = client.get(_url(review, 2)).get_data(as_text=True)
    assert "Established" in page and "Advanced" in page
    assert "Security-sector reform" in page
    assert "Save and next section" in page


def test_changing_a_prefilled_answer_makes_it_the_states_own(client, db, login_as, review, fp):
    assert _answer(db, review, "COM-1").prefilled
    login_as(fp)
    client.post(
        _url(review, 1),
        data={"COM-1-choice": "partial", "COM-1-narrative": "Corrected.", "save": "1"},
    )
    db.session.expire_all()
    answer = _answer(db, review, "COM-1")
    assert (answer.choice, answer.narrative, answer.prefilled) == ("partial", "Corrected.", False)


def test_overview_shows_completion_per_section_and_missing_codes(client, login_as, review, fp):
    login_as(fp)
    page = client.get(_url(review)).get_data(as_text=True)
    assert page.count(f'href="{_url(review)}/') >= 11
    assert "11. Monitoring, evaluation and learning" in page
    assert "2 / 4" in page  # section 1: COM-1 and COM-2 pre-filled, COM-3 and COM-4 open
    assert "COM-3" in page and "SEC-1" in page
    assert "Submit self-assessment" in page


def test_submit_refused_lists_missing_codes_then_accepted(client, db, login_as, review, fp):
    login_as(fp)
    url = f"/reviews/{review.id}/events/submit_self_assessment"
    refused = client.post(url, data={"expected_status": "self_assessment"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "required questions are not answered yet" in text
    assert "COM-3" in text and "COM-4" in text
    db.session.expire_all()
    assert review.status == ReviewStatus.SELF_ASSESSMENT

    _fill_required(db, review, fp)
    overview = client.get(_url(review)).get_data(as_text=True)
    assert "required questions are not answered yet" not in overview
    accepted = client.post(url, data={"expected_status": "self_assessment"})
    assert accepted.status_code == 302
    db.session.expire_all()
    assert review.status == ReviewStatus.SCREENING
    log = db.session.scalar(
        select(TransitionLog).where(TransitionLog.event == "submit_self_assessment")
    )
    assert log.actor_id == fp.id


def test_focal_point_cannot_edit_after_submission_but_reads(client, db, login_as, review, fp):
    _fill_required(db, review, fp)
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    login_as(fp)
    assert client.post(_url(review, 2), data={"SEC-1-level": "4"}).status_code == 409
    assert _answer(db, review, "SEC-1").level == 2
    page = client.get(_url(review)).get_data(as_text=True)
    assert "submitted and is shown read-only" in page
    assert "About SEC-1" in page
    section = client.get(_url(review, 2)).get_data(as_text=True)
    assert "About SEC-1" in section and "Save draft" not in section


def test_secretariat_reads_but_cannot_edit(client, db, login_as, make, review, fp):
    _fill_required(db, review, fp)
    login_as(make.secretariat())
    page = client.get(_url(review)).get_data(as_text=True)
    assert "About COM-3" in page and "2 — Developing" in page
    assert client.post(_url(review, 2), data={"SEC-1-level": "4"}).status_code == 403


@pytest.mark.parametrize("method,number", [("get", None), ("get", 1), ("post", 2)])
def test_focal_point_of_another_state_gets_404(client, login_as, make, review, method, number):
    login_as(make.focal_point("GHA"))
    response = getattr(client, method)(_url(review, number), data={"SEC-1-level": "1"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "status",
    [
        AssignmentStatus.INVITED,
        AssignmentStatus.DECLINED,
        AssignmentStatus.CONFLICTED,
        AssignmentStatus.WITHDRAWN,
    ],
)
def test_reviewer_not_on_the_team_gets_404(client, db, login_as, make, review, fp, status):
    reviewer = make.reviewer("FRA")
    make.assignment(review, reviewer, status=status)
    login_as(reviewer)
    assert client.get(_url(review)).status_code == 404
    assert client.get(_url(review, 2)).status_code == 404
    assert client.post(_url(review, 2), data={"SEC-1-level": "4"}).status_code == 404


@pytest.mark.parametrize("status", [ReviewStatus.SELF_ASSESSMENT, ReviewStatus.SCREENING])
def test_the_team_does_not_see_the_states_draft_before_screening_accepts_it(
    client, db, login_as, make, review, fp, status
):
    """A reviewer invited or accepted early (a draw before screening) must not read the
    state's unsubmitted or unscreened draft, nor its files (DESIGN §5)."""
    _fill_required(db, review, fp)
    review.status = status
    db.session.commit()
    accepted = make.reviewer("BRA")
    make.assignment(review, accepted, status=AssignmentStatus.ACCEPTED)
    login_as(accepted)
    assert client.get(_url(review)).status_code == 404
    assert client.get(_url(review, 2)).status_code == 404
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert f"/reviews/{review.id}/self-assessment" not in page


def test_accepted_reviewer_reads_but_cannot_edit(client, db, login_as, make, review, fp):
    _fill_required(db, review, fp)
    review.status = ReviewStatus.PEER_ASSIGNMENT
    db.session.commit()
    accepted = make.reviewer("BRA")
    make.assignment(review, accepted, status=AssignmentStatus.ACCEPTED)
    login_as(accepted)
    page = client.get(_url(review))
    assert page.status_code == 200
    assert "About SEC-1" in page.get_data(as_text=True)
    assert "Submit self-assessment" not in page.get_data(as_text=True)
    assert client.post(_url(review, 2), data={"SEC-1-level": "4"}).status_code == 403
    assert _answer(db, review, "SEC-1").level == 2


def test_unknown_section_is_404(client, login_as, review, fp):
    login_as(fp)
    assert client.get(_url(review, 12)).status_code == 404


def test_section_progress_uses_a_fixed_number_of_queries(db, review, fp):
    _fill_required(db, review, fp)
    assert review.cycle.framework_id  # loaded before counting
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        progress = service.section_progress(review)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(progress) == 11
    assert len(statements) <= 2
    assert all(entry.complete for entry in progress)
    required = db.session.scalar(select(func.count(Question.id)).where(Question.required.is_(True)))
    assert sum(entry.required_total for entry in progress) == required


def test_service_refuses_a_level_outside_the_scale(app, db, review, fp):
    section = service.section_by_number(review, 2)
    with app.test_request_context(), pytest.raises(service.SelfAssessmentError, match="SEC-1"):
        service.save_section(review, section, {"answers": {"SEC-1": {"level": 5}}}, fp)


# --- concurrent saves and stale pages ---------------------------------------------------------


def test_stale_section_save_is_refused_and_keeps_the_typed_text(
    app, client, db, login_as, make, review, fp
):
    """Two focal points of the state open section 2; A saves; B's save of the page as loaded is
    refused (409) instead of wiping A's text; B's deliberate second save goes through."""
    colleague = make.focal_point("KEN")
    other_tab = login_as(colleague, on=app.test_client())
    login_as(fp)
    a_page = _open(client, _url(review, 2))
    b_page = _open(other_tab, _url(review, 2))
    assert a_page["base_version"] == b_page["base_version"]

    saved = client.post(
        _url(review, 2),
        data={**a_page, "SEC-1-narrative": "Text of the first focal point.", "save": "1"},
    )
    assert saved.status_code == 302

    refused = other_tab.post(
        _url(review, 2),
        data={
            **b_page,
            "SEC-1-narrative": "Text of the second focal point.",
            "SEC-3-narrative": "Also typed by the second.",
            "capacity_gaps": "Gaps typed by the second.",
            "save": "1",
        },
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Nothing was saved." in page
    assert "Someone saved this section after you opened it." in page
    assert "Save again to replace it." in page
    assert "Text of the second focal point." in page  # what B typed, kept
    assert "Also typed by the second." in page and "Gaps typed by the second." in page
    assert "Saved meanwhile (the current saved text):" in page
    assert "Text of the first focal point." in page  # what A saved, shown beside SEC-1
    assert (
        '<a class="alert-link" href="#q-SEC-1">SEC-1</a>' in page and 'href="#q-SEC-3"' not in page
    )
    db.session.expire_all()
    assert _answer(db, review, "SEC-1").narrative == "Text of the first focal point."
    assert _answer(db, review, "SEC-3") is None
    assert db.session.scalar(select(SectionGaps)) is None

    again = _hidden(page)
    assert again["base_version"] != b_page["base_version"]
    second = other_tab.post(
        _url(review, 2),
        data={**again, "SEC-1-narrative": "Text of the second focal point.", "save": "1"},
    )
    assert second.status_code == 302
    db.session.expire_all()
    assert _answer(db, review, "SEC-1").narrative == "Text of the second focal point."
    assert _answer(db, review, "SEC-1").updated_by_id == colleague.id


def test_same_person_in_two_tabs_cannot_wipe_a_saved_answer(client, db, login_as, review, fp):
    login_as(fp)
    first_tab = _open(client, _url(review, 4))
    second_tab = _open(client, _url(review, 4))
    first = {"JUS-1-level": "3", "JUS-1-narrative": "Courts sit in every county."}
    client.post(_url(review, 4), data={**first_tab, **first, "save": "1"})
    # the second tab still shows JUS-1 empty; a browser posts its empty text areas
    second = {"JUS-1-narrative": "", "JUS-2-narrative": "Typed in the second tab."}
    refused = client.post(_url(review, 4), data={**second_tab, **second, "save": "1"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Courts sit in every county." in page  # the saved text, shown beside JUS-1
    assert "Typed in the second tab." in page
    db.session.expire_all()
    answer = _answer(db, review, "JUS-1")
    assert (answer.level, answer.narrative) == (3, "Courts sit in every county.")
    assert _answer(db, review, "JUS-2") is None


def test_double_click_on_save_is_not_a_conflict(client, db, login_as, review, fp):
    login_as(fp)
    tab = _open(client, _url(review, 2))
    data = {**tab, "SEC-1-level": "2", "SEC-1-narrative": "Clicked twice.", "save": "1"}
    assert client.post(_url(review, 2), data=data).status_code == 302
    second = client.post(_url(review, 2), data=data)
    assert second.status_code == 302  # the same text again changes nothing: no refusal
    assert "Saved." in client.get(second.headers["Location"]).get_data(as_text=True)
    assert _answer(db, review, "SEC-1").narrative == "Clicked twice."


def test_save_after_submission_shows_the_typed_text_read_only(client, db, login_as, review, fp):
    """The self-assessment was submitted from another tab: the save is refused with 409 and the
    text typed in this tab is shown to be copied, not lost behind a bare 403."""
    _fill_required(db, review, fp)
    login_as(fp)
    tab = _open(client, _url(review, 2))
    review.status = ReviewStatus.SCREENING
    db.session.commit()

    refused = client.post(
        _url(review, 2),
        data={**tab, "SEC-1-narrative": "A paragraph typed after submission.", "save": "1"},
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "This self-assessment was submitted and can no longer be changed" in page
    assert "your unsaved text is shown below so you can copy it" in page
    assert re.search(r"<textarea[^>]*readonly[^>]*>\s*A paragraph typed after submission.", page)
    assert "Save draft" not in page and '<form method="post" action="/reviews' not in page
    db.session.expire_all()
    assert _answer(db, review, "SEC-1").narrative == "About SEC-1"


def test_save_after_submission_with_nothing_unsaved_redirects_with_a_note(
    client, db, login_as, review, fp
):
    _fill_required(db, review, fp)
    login_as(fp)
    tab = _open(client, _url(review, 2))
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    response = client.post(_url(review, 2), data={**tab, "save": "1"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "can no longer be changed; nothing you typed was lost." in page


def test_service_refuses_a_stale_base_version_and_a_submitted_review(app, db, review, fp):
    section = service.section_by_number(review, 2)
    data = {"answers": {"SEC-1": {"narrative": "Changed."}}}
    with app.test_request_context():
        with pytest.raises(service.SectionChanged) as refused:
            service.save_section(review, section, data, fp, base_version="0" * 20)
        assert "SEC-1" in refused.value.versions
        db.session.rollback()
        review.status = ReviewStatus.SCREENING
        db.session.commit()
        with pytest.raises(service.NotEditable):
            service.save_section(review, section, data, fp)
