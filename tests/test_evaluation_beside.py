"""The evaluation page shows the state's self-assessment beside the reviewer's fields, with a
section navigator and a per-section save (issue 16, item 5; DESIGN §4, §5)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from app.models import Answer, Evaluation, EvaluationSection, EvidenceFile, SectionGaps
from tests.test_evaluation import evaluation_form, page_version


def _text(page) -> str:
    return html.unescape(page.get_data(as_text=True))


def _state_answers(db, review, section):
    """The state's answer to ``section``'s first question, its gaps and one evidence file."""
    question = section.questions[0]
    answer = db.session.scalar(
        select(Answer).where(Answer.review_id == review.id, Answer.question_id == question.id)
    ) or Answer(review_id=review.id, question_id=question.id)
    answer.level, answer.prefilled = 2, False
    answer.narrative = "Our national mechanism meets monthly."
    answer.evidence = "Decree 12/2021"
    db.session.add(answer)
    gaps = db.session.scalar(
        select(SectionGaps).where(
            SectionGaps.review_id == review.id, SectionGaps.section_id == section.id
        )
    ) or SectionGaps(review_id=review.id, section_id=section.id)
    gaps.capacity_gaps = "No budget line for early warning."
    gaps.assistance_sought = []
    db.session.add(gaps)
    file = EvidenceFile(
        review_id=review.id,
        question_id=question.id,
        storage_key="k" * 32,
        original_name="decree-12.pdf",
        content_type="application/pdf",
        size_bytes=2048,
        sha256="0" * 64,
    )
    db.session.add(file)
    db.session.commit()
    return file


def _section_block(text: str, number: int) -> str:
    start = text.index(f'id="section-{number}"')
    end = text.find("<section", start + 1)
    return text[start:end]


def test_each_section_shows_the_states_answers_gaps_and_files_beside_the_rating(
    client, team, login_as, db
):
    review, first, second = team["review"], team["sections"][0], team["sections"][1]
    file = _state_answers(db, review, first)
    login_as(team["member"])
    page = client.get(f"/assignments/{team['member_a'].id}/evaluation")
    assert page.status_code == 200
    block = _section_block(_text(page), first.number)
    assert "The state's answers" in block
    assert "Our national mechanism meets monthly." in block
    assert "2 — " in block  # the capacity level chosen, with its label
    assert "Decree 12/2021" in block
    assert "No budget line for early warning." in block
    assert f"/reviews/{review.id}/self-assessment/files/{file.id}" in block
    assert f'name="rating_{first.id}"' in block and f'name="findings_{first.id}"' in block
    assert "Our national mechanism meets monthly." not in _section_block(_text(page), second.number)


def test_the_evidence_file_linked_beside_the_fields_opens_for_the_reviewer(
    client, team, login_as, db, app
):
    review, first = team["review"], team["sections"][0]
    file = _state_answers(db, review, first)
    from app.services import evidence

    key = evidence.store_bytes(b"%PDF-1.4 decree")
    file.storage_key = key
    db.session.commit()
    login_as(team["member"])
    page = _text(client.get(f"/assignments/{team['member_a'].id}/evaluation"))
    link = re.search(rf'href="([^"]*/files/{file.id}[^"]*)"', page).group(1)
    assert client.get(link).status_code == 200


def test_saving_one_section_stores_only_that_section_and_keeps_the_rest_typed(
    client, team, login_as, db
):
    review, assignment = team["review"], team["member_a"]
    first, second = team["sections"][0], team["sections"][1]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    typed = evaluation_form(db, review, base_version=page_version(client.get(url)))
    typed[f"findings_{first.id}"] = "Saved with the section button."
    typed[f"findings_{second.id}"] = "Typed but not saved."
    typed["save_section"] = str(first.id)
    saved = client.post(url, data=typed)

    assert saved.status_code == 200  # other text is unsaved: the page comes back as typed
    text = _text(saved)
    assert f"Section {first.number} is saved." in text
    assert "Typed but not saved." in text
    assert "data-unsaved" in text
    db.session.expire_all()
    rows = {r.section_id: r for r in db.session.scalars(select(EvaluationSection))}
    assert rows[first.id].findings == "Saved with the section button."
    assert rows[first.id].rating == 3
    assert second.id not in rows or rows[second.id].findings == ""
    assert db.session.scalar(select(Evaluation.summary)) == ""

    # the page's new version lets the whole page be saved next
    typed.pop("save_section")
    typed["base_version"] = page_version(saved)
    assert client.post(url, data=typed).status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(EvaluationSection.findings).where(EvaluationSection.section_id == second.id)
        )
        == "Typed but not saved."
    )


def test_saving_one_section_with_nothing_else_typed_returns_to_its_anchor(
    client, team, login_as, db
):
    assignment, first = team["member_a"], team["sections"][0]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    version = page_version(client.get(url))
    saved = client.post(
        url,
        data={
            "expected_status": "accepted",
            "base_version": version,
            f"rating_{first.id}": "1",
            f"findings_{first.id}": "Only this.",
            "save_section": str(first.id),
        },
    )
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"#section-{first.number}")


def test_a_section_save_from_a_stale_page_is_a_conflict_keeping_the_text(
    client, team, login_as, db
):
    review, assignment, first = team["review"], team["member_a"], team["sections"][0]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    old = page_version(client.get(url))
    client.post(url, data={"expected_status": "accepted", "base_version": old, "summary": "New."})
    typed = evaluation_form(db, review, base_version=old, save_section=str(first.id))
    typed[f"findings_{first.id}"] = "Typed in the old tab."
    refused = client.post(url, data=typed)
    assert refused.status_code == 409
    assert "Typed in the old tab." in _text(refused)
    db.session.expire_all()
    assert (
        "Typed in the old tab." not in db.session.scalars(select(EvaluationSection.findings)).all()
    )


def test_the_navigator_marks_rated_sections_done_and_the_others_not(client, team, login_as, db):
    assignment, first = team["member_a"], team["sections"][0]
    login_as(team["member"])
    url = f"/assignments/{assignment.id}/evaluation"
    before = _text(client.get(url))
    assert before.count('data-section-mark="done"') == 0
    assert before.count('data-section-mark="open"') == len(team["sections"])
    client.post(
        url,
        data={
            "expected_status": "accepted",
            "base_version": page_version(client.get(url)),
            f"rating_{first.id}": "2",
            "save_section": str(first.id),
        },
    )
    after = _text(client.get(url))
    nav = after[after.index("eval-nav") :]
    assert nav.count('data-section-mark="done"') == 1
    assert nav.count('data-section-mark="open"') == len(team["sections"]) - 1
    assert re.search(rf'href="#section-{first.number}"[^<]*</a>\s*<span[^>]*"done"', nav)
