"""Versions of the self-assessment (issue 16): one numbered copy per submission, what changed
after a return for revision, and a new cycle's sections started from the last adopted review."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.models import Answer, Question, SelfAssessmentVersion
from app.services import transitions
from tests.factories import fill_required_answers
from workflows import AssignmentStatus, ReviewStatus


def _answer(db, review, code):
    return db.session.scalar(
        select(Answer)
        .join(Question, Answer.question_id == Question.id)
        .where(Answer.review_id == review.id, Question.code == code)
    )


def _submit(client, review):
    url = f"/reviews/{review.id}/events/submit_self_assessment"
    response = client.post(url, data={"expected_status": "self_assessment"})
    assert response.status_code == 302, response.get_data(as_text=True)


def _submitted_twice(client, db, make, login_as):
    """Kenya submits, the secretariat returns it, Kenya changes SEC-1 and submits again."""
    review = make.review("KEN")
    fp = make.focal_point("KEN")
    secretariat = make.secretariat()
    fill_required_answers(db, review, fp)
    sec1 = _answer(db, review, "SEC-1")
    sec1.narrative = "Police present in 40 of 47 counties."
    db.session.commit()
    login_as(fp)
    _submit(client, review)
    transitions.apply_transition(
        secretariat, review, "return_self_assessment", reason="Say more about the police."
    )
    response = client.post(
        f"/reviews/{review.id}/self-assessment/2",
        data={
            "SEC-1-level": "3",
            "SEC-1-narrative": "Police present in 44 of 47 counties.",
            "save": "Save draft",
        },
    )
    assert response.status_code == 302
    _submit(client, review)
    return review, fp, secretariat


def test_each_submission_freezes_a_numbered_version(client, db, make, login_as):
    review, fp, _secretariat = _submitted_twice(client, db, make, login_as)
    versions = db.session.scalars(
        select(SelfAssessmentVersion)
        .where(SelfAssessmentVersion.review_id == review.id)
        .order_by(SelfAssessmentVersion.number)
    ).all()
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].content["questions"]["SEC-1"]["narrative"] == (
        "Police present in 40 of 47 counties."
    )
    assert versions[0].content["questions"]["SEC-1"]["level"] == 2
    assert versions[1].content["questions"]["SEC-1"]["level"] == 3
    assert all(v.submitted_by_id == fp.id for v in versions)
    # the first version stays as it was sent
    assert versions[0].content["questions"]["SEC-1"]["narrative"].startswith("Police present in 40")


def test_secretariat_sees_what_changed_question_by_question(client, db, make, login_as):
    review, _fp, secretariat = _submitted_twice(client, db, make, login_as)
    login_as(secretariat)
    overview = client.get(f"/reviews/{review.id}/self-assessment").get_data(as_text=True)
    assert f"/reviews/{review.id}/self-assessment/versions" in overview
    listing = client.get(f"/reviews/{review.id}/self-assessment/versions")
    assert listing.status_code == 200
    assert "Version 2" in listing.get_data(as_text=True)
    page = client.get(f"/reviews/{review.id}/self-assessment/versions/2").get_data(as_text=True)
    assert '<del class="text-danger">40</del>' in page
    assert '<ins class="text-success">44</ins>' in page
    assert "2 — Developing" in page and "3 — Established" in page
    assert "SEC-1" in page
    assert "SEC-2" not in page and "COM-3" not in page  # unchanged questions are left out
    assert client.get(f"/reviews/{review.id}/self-assessment/versions/3").status_code == 404


def test_one_version_has_no_link_from_the_overview(client, db, make, login_as):
    review = make.review("KEN")
    fp = make.focal_point("KEN")
    fill_required_answers(db, review, fp)
    login_as(fp)
    _submit(client, review)
    page = client.get(f"/reviews/{review.id}/self-assessment").get_data(as_text=True)
    assert "/self-assessment/versions" not in page


def test_versions_refused_to_other_states_and_outside_reviewers(client, db, make, login_as):
    review, _fp, secretariat = _submitted_twice(client, db, make, login_as)
    url = f"/reviews/{review.id}/self-assessment/versions/2"
    login_as(make.focal_point("GHA"))
    assert client.get(url).status_code == 404
    assert client.get(f"/reviews/{review.id}/self-assessment/versions").status_code == 404
    outsider = make.reviewer("POL")
    login_as(outsider)
    assert client.get(url).status_code == 404
    member = make.reviewer("BRA")
    make.assignment(review, member, status=AssignmentStatus.ACCEPTED, actor=secretariat)
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    login_as(member)
    assert client.get(url).status_code == 200


def _two_cycles(make, db, earlier_status=ReviewStatus.RESPONSE):
    old_cycle = make.cycle("2023 cycle", starts_on=date(2023, 1, 1))
    old = make.review("KEN", old_cycle)
    fp = make.focal_point("KEN")
    fill_required_answers(db, old, fp)
    _answer(db, old, "SEC-1").narrative = "Police present in 40 of 47 counties."
    old.status = earlier_status
    new = make.review("KEN", make.cycle("2027 cycle", starts_on=date(2027, 1, 1)))
    return old, new, fp


def test_focal_point_starts_a_section_from_the_last_adopted_review(client, db, make, login_as):
    old, new, fp = _two_cycles(make, db)
    db.session.commit()
    login_as(fp)
    overview = client.get(f"/reviews/{new.id}/self-assessment").get_data(as_text=True)
    assert "Copy answers from 2023 cycle" in overview
    response = client.post(f"/reviews/{new.id}/self-assessment/2/carry-over")
    assert response.status_code == 302
    db.session.expire_all()
    copied = _answer(db, new, "SEC-1")
    assert copied.narrative == "Police present in 40 of 47 counties."
    assert copied.level == 2 and copied.carried_from_id == old.id
    assert _answer(db, new, "COM-3") is None  # other sections are left alone
    page = client.get(f"/reviews/{new.id}/self-assessment/2").get_data(as_text=True)
    assert "Carried over from 2023 cycle" in page

    client.post(
        f"/reviews/{new.id}/self-assessment/2",
        data={"SEC-1-level": "2", "SEC-1-narrative": "Police in 45 counties.", "save": "Save"},
    )
    db.session.expire_all()
    assert _answer(db, new, "SEC-1").carried_from_id is None  # edited: the state's own now
    assert _answer(db, new, "SEC-2").carried_from_id == old.id  # not edited: still marked

    overview = client.get(f"/reviews/{new.id}/self-assessment").get_data(as_text=True)
    forms = dict(re.findall(r'action="[^"]*/(\d+)/carry-over"(.*?)</form>', overview, re.S))
    assert "data-confirm=" in forms["2"]  # the section has answers: copying again asks first
    assert "data-confirm=" not in forms["3"]  # nothing to lose there: no question asked


def test_no_carry_over_without_an_adopted_review(client, db, make, login_as):
    _old, new, fp = _two_cycles(make, db, earlier_status=ReviewStatus.EVALUATION)
    db.session.commit()
    login_as(fp)
    overview = client.get(f"/reviews/{new.id}/self-assessment").get_data(as_text=True)
    assert "Copy answers from" not in overview
    response = client.post(f"/reviews/{new.id}/self-assessment/2/carry-over", follow_redirects=True)
    assert "no earlier review with an adopted report" in response.get_data(as_text=True)
    assert _answer(db, new, "SEC-1") is None


def test_carry_over_refused_to_the_secretariat_and_other_states(client, db, make, login_as):
    _old, new, _fp = _two_cycles(make, db)
    db.session.commit()
    login_as(make.secretariat())
    assert client.post(f"/reviews/{new.id}/self-assessment/2/carry-over").status_code == 403
    login_as(make.focal_point("GHA"))
    assert client.post(f"/reviews/{new.id}/self-assessment/2/carry-over").status_code == 404
    assert _answer(db, new, "SEC-1") is None
