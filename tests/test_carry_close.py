"""Carry-over without double tracking (issue 16, item 8) and the announcement of new mid-term
reports on the focal point's home page (issue 16, item 7).

When a state's next cycle opens (or the state joins an open cycle) while its previous review is
still in follow-up, that follow-up is closed into the new review: logged, e-mailed, previewed on
the cycle page before opening, and no recommendation stays open in two reviews.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import (
    Assessment,
    AssessmentStatus,
    Notification,
    Recommendation,
    Report,
    Review,
    TransitionLog,
)
from app.services import clock
from tests.factories import prepared_review
from workflows import ReviewStatus


@pytest.fixture
def kenya(make, db):
    """Kenya's review in follow-up with an adopted report: one recommendation assessed
    implemented (stays behind) and one partially implemented (carries over)."""
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.FOLLOW_UP
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    report.adopted_at = clock.now()
    first = db.session.scalar(select(Recommendation).where(Recommendation.review_id == review.id))
    partial = Recommendation(
        review_id=review.id,
        section_id=first.section_id,
        text="Train the police on early warning.",
        priority=first.priority,
        action_category=first.action_category,
        addressee=first.addressee,
    )
    db.session.add(partial)
    db.session.flush()
    db.session.add(
        Assessment(
            recommendation_id=partial.id,
            status=AssessmentStatus.PARTIALLY_IMPLEMENTED,
            note="Half the districts.",
            author_id=prepared.identities["secretariat"].id,
        )
    )
    db.session.commit()
    prepared.partial_id = partial.id
    return prepared


def _open(app, login_as, secretariat, cycle):
    client = login_as(secretariat, on=app.test_client())
    response = client.post(
        f"/admin/cycles/{cycle.id}/events/open_cycle", data={"expected_status": "planning"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _open_reviews_tracking(db, original_id):
    """Open reviews in which ``original_id`` (or a copy of it) is tracked."""
    rows = db.session.scalars(
        select(Review.id)
        .join(Recommendation, Recommendation.review_id == Review.id)
        .where(
            (Recommendation.id == original_id) | (Recommendation.carried_from_id == original_id),
            Review.status.not_in([ReviewStatus.CLOSED, ReviewStatus.WITHDRAWN]),
        )
    ).all()
    return rows


def test_opening_the_next_cycle_closes_the_follow_up_into_the_new_review(
    app, db, make, kenya, login_as
):
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    new_review = make.review("KEN", later)
    _open(app, login_as, kenya.identities["secretariat"], later)
    db.session.expire_all()
    old = db.session.get(Review, kenya.review.id)
    assert old.status == ReviewStatus.CLOSED
    log = db.session.scalar(
        select(TransitionLog).where(TransitionLog.event == "close_into_next_cycle")
    )
    assert (log.subject_id, log.from_state, log.to_state) == (old.id, "follow_up", "closed")
    assert log.actor_id == kenya.identities["secretariat"].id
    assert "2031 cycle" in log.reason
    assert log.payload["into_review_id"] == new_review.id and log.payload["carried"] == 1
    # the partially implemented recommendation is tracked in exactly one open review: the new
    assert _open_reviews_tracking(db, kenya.partial_id) == [new_review.id]


def test_an_enhanced_follow_up_is_closed_too_and_cannot_be_reopened(app, db, make, kenya, login_as):
    kenya.review.status = ReviewStatus.ENHANCED_FOLLOW_UP
    db.session.commit()
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    make.review("KEN", later)
    sec = _open(app, login_as, kenya.identities["secretariat"], later)
    db.session.expire_all()
    assert db.session.get(Review, kenya.review.id).status == ReviewStatus.CLOSED
    page = sec.get(f"/reviews/{kenya.review.id}").get_data(as_text=True)
    assert "/events/reopen" not in page  # reopening would track the carried ones twice
    refused = sec.post(
        f"/reviews/{kenya.review.id}/events/reopen",
        data={"expected_status": "closed", "reason": "Try to reopen."},
    )
    assert refused.status_code in (403, 409, 422)
    db.session.expire_all()
    assert db.session.get(Review, kenya.review.id).status == ReviewStatus.CLOSED


def test_the_state_and_the_secretariat_are_told_by_email(app, db, make, kenya, login_as):
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    new_review = make.review("KEN", later)
    _open(app, login_as, kenya.identities["secretariat"], later)
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "follow_up_closed_into_next_cycle")
    ).all()
    recipients = {n.recipient_id for n in notes}
    assert kenya.identities["focal_point"].id in recipients
    assert kenya.identities["secretariat"].id in recipients
    assert kenya.identities["other_focal_point"].id not in recipients
    assert kenya.identities["lead_reviewer"].id not in recipients
    body = notes[0].body_text
    assert "2031 cycle" in notes[0].subject
    assert "1 recommendation not yet implemented is carried over" in body
    assert f"/reviews/{new_review.id}" in body


def test_the_cycle_page_shows_what_opening_will_close_before_it_opens(
    app, db, make, kenya, login_as
):
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    make.review("KEN", later)
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    page = sec.get(f"/admin/cycles/{later.id}").get_data(as_text=True)
    assert "When the cycle opens: earlier reviews" in page
    assert "Closed into this cycle" in page
    section = page.split('id="carry-preview"')[1].split("</section>")[0]
    assert "Kenya" in section and "<td>1</td>" in section
    # nothing was changed by looking
    db.session.expire_all()
    assert db.session.get(Review, kenya.review.id).status == ReviewStatus.FOLLOW_UP
    assert (
        db.session.scalar(
            select(func.count(TransitionLog.id)).where(
                TransitionLog.event == "close_into_next_cycle"
            )
        )
        == 0
    )


def test_a_state_joining_an_open_cycle_has_its_follow_up_closed_into_it(
    app, db, make, kenya, login_as
):
    later = make.cycle(name="2031 cycle", open_=True, starts_on=date(2031, 1, 1))
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    response = sec.post(
        f"/admin/cycles/{later.id}/states", data={"states": [kenya.review.state_id]}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, kenya.review.id).status == ReviewStatus.CLOSED
    new_id = db.session.scalar(select(Review.id).where(Review.cycle_id == later.id))
    assert _open_reviews_tracking(db, kenya.partial_id) == [new_id]


def test_a_closed_previous_review_is_left_alone(app, db, make, kenya, login_as):
    kenya.review.status = ReviewStatus.CLOSED
    db.session.commit()
    later = make.cycle(name="2031 cycle", open_=False, starts_on=date(2031, 1, 1))
    make.review("KEN", later)
    _open(app, login_as, kenya.identities["secretariat"], later)
    assert (
        db.session.scalar(
            select(func.count(TransitionLog.id)).where(
                TransitionLog.event == "close_into_next_cycle"
            )
        )
        == 0
    )


# --- new mid-term reports on the focal point's home page (issue 16, item 7) ----------------------


def test_focal_point_home_announces_a_new_midterm_report_until_read(app, db, kenya, login_as):
    review = kenya.review
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    fp = login_as(kenya.identities["focal_point"], on=app.test_client())
    assert "mid-term report 1" not in fp.get("/home").get_data(as_text=True)
    assert sec.post(f"/reviews/{review.id}/mid-term").status_code == 302
    mail = db.session.scalar(
        select(Notification).where(
            Notification.kind == "midterm_report",
            Notification.recipient_id == kenya.identities["focal_point"].id,
        )
    )
    assert mail is not None and f"/reviews/{review.id}/mid-term/1" in mail.body_text
    home = fp.get("/home").get_data(as_text=True)
    assert "generated mid-term report 1" in home
    assert f"/reviews/{review.id}/mid-term/1" in home
    # another state's focal point hears nothing
    other = login_as(kenya.identities["other_focal_point"], on=app.test_client())
    assert "generated mid-term report 1" not in other.get("/home").get_data(as_text=True)
    # once read, the home page stops announcing it
    assert fp.get(f"/reviews/{review.id}/mid-term/1").status_code == 200
    assert "generated mid-term report 1" not in fp.get("/home").get_data(as_text=True)
