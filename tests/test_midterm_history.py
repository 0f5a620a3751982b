"""Mid-term reports, progress evidence, a state's history across cycles and carry-over of
unimplemented recommendations into the next cycle."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.models import (
    Addressee,
    Assessment,
    AssessmentStatus,
    MidtermReport,
    Priority,
    ProgressUpdate,
    PublicationConsent,
    Recommendation,
    Report,
)
from app.services import clock
from app.services.carry_over import carry_over
from tests.factories import prepared_review
from workflows import ReviewStatus


@pytest.fixture
def kenya(make, db):
    """Kenya's review in follow-up with an adopted report (one recommendation, implemented)."""
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.FOLLOW_UP
    report = db.session.scalar(select(Report).where(Report.review_id == prepared.review.id))
    report.adopted_at = clock.now()
    db.session.commit()
    return prepared


def _rec(db, review):
    return db.session.scalar(select(Recommendation).where(Recommendation.review_id == review.id))


# --- progress evidence -------------------------------------------------------------------------


def test_progress_update_keeps_its_evidence_and_shows_it(app, db, kenya, login_as):
    review, rec = kenya.review, _rec(db, kenya.review)
    client = login_as(kenya.identities["focal_point"], on=app.test_client())
    response = client.post(
        f"/reviews/{review.id}/follow-up/{rec.id}/progress",
        data={
            f"p{rec.id}-status": "in_progress",
            f"p{rec.id}-narrative": "Bill tabled in parliament.",
            f"p{rec.id}-evidence": "Hansard, 12 March 2028, p. 4",
        },
    )
    assert response.status_code == 302
    update = db.session.scalar(select(ProgressUpdate))
    assert update.evidence == "Hansard, 12 March 2028, p. 4"
    page = client.get(f"/reviews/{review.id}/follow-up").get_data(as_text=True)
    assert "Hansard, 12 March 2028, p. 4" in page


# --- mid-term reports --------------------------------------------------------------------------


def _generate(client, review):
    return client.post(f"/reviews/{review.id}/mid-term")


def test_secretariat_generates_frozen_versioned_midterm_reports(app, db, kenya, login_as):
    review, rec = kenya.review, _rec(db, kenya.review)
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    assert _generate(sec, review).status_code == 302
    db.session.add(
        Assessment(
            recommendation_id=rec.id,
            status=AssessmentStatus.PARTIALLY_IMPLEMENTED,
            note="Regressed after the new decree.",
            author_id=kenya.identities["secretariat"].id,
        )
    )
    db.session.commit()
    assert _generate(sec, review).status_code == 302
    versions = db.session.scalars(select(MidtermReport).order_by(MidtermReport.version)).all()
    assert [v.version for v in versions] == [1, 2]
    first, second = (v.content for v in versions)
    assert first["recommendations"][0]["assessment"]["status"] == "implemented"
    assert second["recommendations"][0]["assessment"]["status"] == "partially_implemented"
    assert first["totals"]["recommendations"] == 1
    assert first["totals"]["position"]["supported"] == 1
    # version 1 still shows what was true when it was generated
    page = sec.get(f"/reviews/{review.id}/mid-term/1").get_data(as_text=True)
    assert "Regressed" not in page and "Implemented" in page
    assert "Regressed" in sec.get(f"/reviews/{review.id}/mid-term/2").get_data(as_text=True)
    listing = sec.get(f"/reviews/{review.id}/mid-term").get_data(as_text=True)
    assert "Version 1" in listing and "Version 2" in listing


def test_generating_twice_without_change_keeps_one_version(app, db, kenya, login_as):
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    assert _generate(sec, kenya.review).status_code == 302
    again = _generate(sec, kenya.review)
    assert again.status_code == 302 and again.location.endswith("/mid-term/1")
    page = sec.get(again.location).get_data(as_text=True)
    assert "Nothing changed since version 1" in page
    assert db.session.scalars(select(MidtermReport.version)).all() == [1]


def test_focal_point_reads_midterms_but_others_do_not(app, db, kenya, login_as):
    review = kenya.review
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    _generate(sec, review)
    fp = login_as(kenya.identities["focal_point"], on=app.test_client())
    assert fp.get(f"/reviews/{review.id}/mid-term/1").status_code == 200
    assert _generate(fp, review).status_code == 403
    assert fp.post(f"/reviews/{review.id}/mid-term/1/publish").status_code == 403
    for identity in ("lead_reviewer", "member_reviewer", "other_focal_point"):
        client = login_as(kenya.identities[identity], on=app.test_client())
        assert client.get(f"/reviews/{review.id}/mid-term").status_code == 404, identity
        assert client.get(f"/reviews/{review.id}/mid-term/1").status_code == 404, identity
    assert db.session.scalar(select(MidtermReport.version).order_by(MidtermReport.id.desc())) == 1


def test_no_midterm_before_follow_up(app, db, kenya, login_as):
    kenya.review.status = ReviewStatus.RESPONSE
    db.session.commit()
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    assert _generate(sec, kenya.review).status_code == 403
    assert db.session.scalar(select(MidtermReport)) is None


@pytest.mark.parametrize(
    ("level", "public_status", "shows_status"),
    [("none", 404, False), ("summary", 200, False), ("full", 200, True)],
)
def test_published_midterm_appears_publicly_as_consent_allows(
    app, db, kenya, login_as, level, public_status, shows_status
):
    """Full consent: statuses and dates, never the progress narrative nor the assessment note
    (DESIGN §5); summary: the recommendation texts only, no figures that would reveal them."""
    review, rec = kenya.review, _rec(db, kenya.review)
    db.session.add(
        ProgressUpdate(
            recommendation_id=rec.id,
            status="in_progress",
            narrative="Secret progress narrative.",
            author_id=kenya.identities["focal_point"].id,
        )
    )
    db.session.commit()
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    _generate(sec, review)
    public = app.test_client()
    assert public.get(f"/public/reports/{review.id}/mid-term/1").status_code == 404
    assert sec.post(f"/reviews/{review.id}/mid-term/1/publish").status_code == 302
    db.session.add(
        PublicationConsent(
            review_id=review.id, level=level, author_id=kenya.identities["focal_point"].id
        )
    )
    db.session.commit()
    response = public.get(f"/public/reports/{review.id}/mid-term/1")
    assert response.status_code == public_status
    if public_status == 200:
        page = response.get_data(as_text=True)
        assert "Establish an independent police complaints authority." in page
        assert "Done" not in page  # the assessment note
        assert "Secret progress narrative" not in page
        assert ("Implemented" in page) is shows_status
        assert ("Supported" in page) is shows_status  # in words, or as the figures' heading
        assert "/mid-term/1" in public.get(f"/public/reports/{review.id}").get_data(as_text=True)


# --- state history -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "status"),
    [
        ("secretariat", 200),
        ("focal_point", 200),
        ("other_focal_point", 404),
        ("lead_reviewer", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_state_history_is_for_the_secretariat_and_the_states_focal_points(
    app, kenya, login_as, identity, status
):
    client = login_as(kenya.identities[identity], on=app.test_client())
    response = client.get(f"/states/{kenya.review.state_id}/history")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert "2027 cycle" in page
        assert "Establish an independent police complaints authority." in page
        assert "Implemented" in page and "Supported" in page


# --- carry-over --------------------------------------------------------------------------------


def _add_recommendations(db, review, secretariat):
    """Four more recommendations on ``review``: latest assessment partially implemented, not
    implemented (after an earlier "implemented"), no longer applicable, and none."""
    section = review.cycle.framework.sections[3]
    made = {}
    for key, statuses in (
        ("partial", [AssessmentStatus.PARTIALLY_IMPLEMENTED]),
        ("regressed", [AssessmentStatus.IMPLEMENTED, AssessmentStatus.NOT_IMPLEMENTED]),
        ("obsolete", [AssessmentStatus.NO_LONGER_APPLICABLE]),
        ("unassessed", []),
    ):
        rec = Recommendation(
            review_id=review.id,
            section_id=section.id,
            text=f"Recommendation {key}.",
            priority=Priority.MEDIUM,
            action_category=4,
            addressee=Addressee.STATE,
        )
        db.session.add(rec)
        db.session.flush()
        for n, status in enumerate(statuses):
            db.session.add(
                Assessment(
                    recommendation_id=rec.id,
                    status=status,
                    author_id=secretariat.id,
                    created_at=clock.now().replace(year=2028 + n),
                )
            )
        made[key] = rec
    db.session.commit()
    return made


def test_opening_a_cycle_carries_unimplemented_recommendations_once(app, db, make, kenya, login_as):
    secretariat = kenya.identities["secretariat"]
    made = _add_recommendations(db, kenya.review, secretariat)
    implemented = _rec(db, kenya.review)  # prepared_review's, assessed implemented
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    new_review = make.review("KEN", later)
    sec = login_as(secretariat, on=app.test_client())
    response = sec.post(
        f"/admin/cycles/{later.id}/events/open_cycle", data={"expected_status": "planning"}
    )
    assert response.status_code == 302
    carried = db.session.scalars(
        select(Recommendation)
        .where(Recommendation.review_id == new_review.id)
        .order_by(Recommendation.id)
    ).all()
    assert sorted(r.carried_from_id for r in carried) == sorted(
        [made["partial"].id, made["regressed"].id, made["unassessed"].id]
    )
    assert implemented.id not in {r.carried_from_id for r in carried}
    assert made["obsolete"].id not in {r.carried_from_id for r in carried}
    assert {r.text for r in carried} == {
        "Recommendation partial.",
        "Recommendation regressed.",
        "Recommendation unassessed.",
    }
    # idempotent: carrying again adds nothing
    assert carry_over(new_review) == []
    db.session.commit()
    assert (
        len(
            db.session.scalars(
                select(Recommendation).where(Recommendation.review_id == new_review.id)
            ).all()
        )
        == 3
    )
    # shown "as recommended previously" with a link to the original
    page = sec.get(f"/reviews/{new_review.id}/report").get_data(as_text=True)
    assert "As recommended previously" in page
    new_review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    follow_up = sec.get(f"/reviews/{new_review.id}/follow-up").get_data(as_text=True)
    assert f"/reviews/{kenya.review.id}/follow-up#rec-{made['partial'].id}" in follow_up
    # the cycle is named once, not "in the 2027 review cycle review"
    original = kenya.review.cycle.name
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", follow_up))
    assert f"As recommended previously ({original})" in shown
    assert f"{original} review" not in shown
    history = sec.get(f"/states/{kenya.review.state_id}/history").get_data(as_text=True)
    assert "2031 cycle" in history and "As recommended previously" in history


def test_state_joining_an_open_cycle_gets_its_carry_over(app, db, make, kenya, login_as):
    made = _add_recommendations(db, kenya.review, kenya.identities["secretariat"])
    later = make.cycle(name="2031 cycle", open_=True, starts_on=date(2031, 1, 1))
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    response = sec.post(
        f"/admin/cycles/{later.id}/states", data={"states": [kenya.review.state_id]}
    )
    assert response.status_code == 302
    carried = set(
        db.session.scalars(
            select(Recommendation.carried_from_id).where(
                Recommendation.carried_from_id.is_not(None)
            )
        )
    )
    assert carried == {made["partial"].id, made["regressed"].id, made["unassessed"].id}


def test_nothing_carried_from_a_report_never_adopted(app, db, make, login_as):
    prepared = prepared_review(make)  # Kenya, still in self-assessment
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    new_review = make.review("KEN", later)
    sec = login_as(prepared.identities["secretariat"], on=app.test_client())
    sec.post(f"/admin/cycles/{later.id}/events/open_cycle", data={"expected_status": "planning"})
    assert (
        db.session.scalar(select(Recommendation).where(Recommendation.review_id == new_review.id))
        is None
    )
