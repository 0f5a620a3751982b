"""The secretariat moves a stage deadline with a reason (DESIGN §8): entered in the cycle's zone,
stored in UTC, every change on the record, a double submission harmless, overdue work flagged."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import DeadlineChange, ReviewDeadline
from tests.factories import prepared_review
from workflows import AssignmentStatus, ReviewStatus


@pytest.fixture(autouse=True)
def _a_fixed_today(frozen_now):
    """Every date these tests enter (2027-2028) stays in the future whatever the real date."""
    frozen_now(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


def _deadline(db, review, stage="factual_check") -> datetime:
    db.session.expire_all()
    return db.session.scalar(
        select(ReviewDeadline.due_at).where(
            ReviewDeadline.review_id == review.id, ReviewDeadline.stage == stage
        )
    )


def _changes(db) -> int:
    return db.session.scalar(select(func.count(DeadlineChange.id)))


def _post(client, review, day, at="", reason="The state asked for more time.", **extra):
    data = {
        "factual_check-day": day,
        "factual_check-at": at,
        "factual_check-reason": reason,
        **extra,
    }
    return client.post(f"/reviews/{review.id}/deadlines/factual_check", data=data)


def _review_in(make, zone: str, code: str = "KEN"):
    cycle = make.cycle(name=f"Cycle {zone}", time_zone=zone)
    return make.review(code, cycle)


@pytest.mark.parametrize(
    "zone, day, at, expected_utc",
    [
        # Europe/Berlin: CET (+1) on 27 March 2027, CEST (+2) from 28 March 02:00
        ("Europe/Berlin", "2027-03-27", "", datetime(2027, 3, 27, 22, 59, 59, tzinfo=UTC)),
        ("Europe/Berlin", "2027-03-28", "", datetime(2027, 3, 28, 21, 59, 59, tzinfo=UTC)),
        ("Europe/Berlin", "2027-03-28", "12:00", datetime(2027, 3, 28, 10, 0, tzinfo=UTC)),
        # America/New_York: EST (-5) from 7 November 2027 02:00; 01:30 happens twice: the first
        ("America/New_York", "2027-11-06", "", datetime(2027, 11, 7, 3, 59, 59, tzinfo=UTC)),
        ("America/New_York", "2027-11-07", "", datetime(2027, 11, 8, 4, 59, 59, tzinfo=UTC)),
        ("America/New_York", "2027-11-07", "01:30", datetime(2027, 11, 7, 5, 30, tzinfo=UTC)),
        # Asia/Kathmandu, +05:45 all year
        ("Asia/Kathmandu", "2027-06-30", "", datetime(2027, 6, 30, 18, 14, 59, tzinfo=UTC)),
    ],
)
def test_a_date_is_read_in_the_cycles_zone_and_stored_in_utc(
    db, make, login_as, client, zone, day, at, expected_utc
):
    secretariat = make.secretariat()
    review = _review_in(make, zone)
    login_as(secretariat)
    response = _post(client, review, day, at)
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    assert _deadline(db, review) == expected_utc
    change = db.session.scalar(select(DeadlineChange))
    assert change.new_due_at == expected_utc
    assert change.changed_by_id == secretariat.id
    assert change.reason == "The state asked for more time."
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert zone in page
    assert "Deadline changes" in page and "The state asked for more time." in page


def test_a_time_skipped_by_daylight_saving_is_refused_with_a_message(db, make, login_as, client):
    review = _review_in(make, "America/New_York")
    before = _deadline(db, review)
    login_as(make.secretariat())
    response = _post(client, review, "2027-03-14", "02:30")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "does not exist" in page and "America/New_York" in page
    assert (
        'value="The state asked for more time."' in page or "The state asked for more time." in page
    )
    assert _deadline(db, review) == before
    assert _changes(db) == 0


def test_saving_the_same_form_twice_moves_the_deadline_once_and_records_one_change(
    db, make, login_as, client
):
    review = _review_in(make, "Europe/Berlin")
    login_as(make.secretariat())
    expected = _deadline(db, review).isoformat()
    first = _post(client, review, "2027-10-31", **{"factual_check-expected": expected})
    second = _post(client, review, "2027-10-31", **{"factual_check-expected": expected})
    assert first.status_code == 302 and second.status_code == 302
    # 31 October 2027: clocks go back at 03:00 in Berlin, so the day ends at 23:59:59 CET (+1)
    assert _deadline(db, review) == datetime(2027, 10, 31, 22, 59, 59, tzinfo=UTC)
    assert _changes(db) == 1
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert page.count("The state asked for more time.") == 1


def test_a_deadline_changed_meanwhile_is_not_overwritten(db, make, login_as, client):
    review = _review_in(make, "UTC")
    login_as(make.secretariat())
    seen = _deadline(db, review).isoformat()
    assert (
        _post(client, review, "2027-12-01", **{"factual_check-expected": seen}).status_code == 302
    )
    late = _post(client, review, "2027-12-15", **{"factual_check-expected": seen})
    assert late.status_code == 409
    assert "Someone changed this deadline" in late.get_data(as_text=True)
    assert _deadline(db, review) == datetime(2027, 12, 1, 23, 59, 59, tzinfo=UTC)
    assert _changes(db) == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"factual_check-reason": "   "}, "Please give a reason for the change"),
        ({"factual_check-day": "31/12/2027"}, "Not a valid date"),
        ({"factual_check-day": "1850-01-01"}, "between 2000 and 2100"),
        ({"factual_check-at": "25:99"}, "Not a valid time"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_kept(db, make, login_as, client, data, message):
    review = _review_in(make, "Africa/Nairobi")
    before = _deadline(db, review)
    login_as(make.secretariat())
    fields = {
        "factual_check-day": "2027-12-31",
        "factual_check-at": "",
        "factual_check-reason": "Extension agreed.",
    }
    fields.update(data)
    response = client.post(f"/reviews/{review.id}/deadlines/factual_check", data=fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert _deadline(db, review) == before
    assert _changes(db) == 0


@pytest.mark.parametrize(
    "identity, expected",
    [
        ("focal_point", 403),
        ("lead_reviewer", 403),
        ("member_reviewer", 403),
        ("other_focal_point", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_only_the_secretariat_changes_deadlines(app, db, make, login_as, identity, expected):
    prepared = prepared_review(make)
    review = prepared.review
    before = _deadline(db, review)
    client = login_as(prepared.identities[identity], on=app.test_client())
    page = client.get(f"/reviews/{review.id}")
    if page.status_code == 200:
        assert "Change this deadline" not in page.get_data(as_text=True)
    response = _post(client, review, "2028-01-31")
    assert response.status_code == expected
    assert _deadline(db, review) == before
    assert _changes(db) == 0


def test_anonymous_visitors_are_sent_to_sign_in(app, db, make):
    """A signed-out post with typed text gets the "you are signed out" page (401) with a sign-in
    link and the text shown back (issue 7), and changes nothing."""
    review = _review_in(make, "UTC")
    response = _post(app.test_client(), review, "2028-01-31")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "/login" in page
    assert _changes(db) == 0


def test_deadlines_of_a_closed_review_no_longer_change(db, make, login_as, client):
    review = _review_in(make, "UTC")
    review.status = ReviewStatus.CLOSED
    db.session.commit()
    login_as(make.secretariat())
    assert "Change this deadline" not in client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert _post(client, review, "2028-01-31").status_code == 403
    assert _changes(db) == 0


def test_unknown_stage_is_not_found(db, make, login_as, client):
    review = _review_in(make, "UTC")
    login_as(make.secretariat())
    response = client.post(f"/reviews/{review.id}/deadlines/nonsense", data={})
    assert response.status_code == 404


def test_overdue_work_is_flagged_on_home_cycle_and_review_pages(
    db, make, login_as, client, frozen_now
):
    review = _review_in(make, "Europe/Berlin")
    secretariat = make.secretariat()
    due = _deadline(db, review, "self_assessment")
    login_as(secretariat)
    frozen_now(due - timedelta(seconds=1))
    for url in ("/home", f"/admin/cycles/{review.cycle_id}", f"/reviews/{review.id}"):
        assert "overdue" not in client.get(url).get_data(as_text=True), url
    frozen_now(due + timedelta(seconds=1))
    for url in ("/home", f"/admin/cycles/{review.cycle_id}", f"/reviews/{review.id}"):
        assert "overdue" in client.get(url).get_data(as_text=True), url
    # moving the deadline a week later clears the flag
    local = date(2027, 4, 8)
    assert _post_stage(client, review, "self_assessment", local).status_code == 302
    for url in ("/home", f"/admin/cycles/{review.cycle_id}", f"/reviews/{review.id}"):
        assert "overdue" not in client.get(url).get_data(as_text=True), url


def _post_stage(client, review, stage, day: date):
    return client.post(
        f"/reviews/{review.id}/deadlines/{stage}",
        data={f"{stage}-day": day.isoformat(), f"{stage}-reason": "Extension."},
    )


def test_changing_only_the_date_gives_the_end_of_that_day_not_the_old_time(
    db, make, login_as, client
):
    """The time field is not pre-filled with the current deadline's time (the form says "leave
    empty for the end of the day"), so a new date alone means 23:59:59 in the cycle's zone."""
    review = _review_in(make, "Europe/Berlin")
    login_as(make.secretariat())
    assert _post(client, review, "2027-10-20", "17:00").status_code == 302
    assert _deadline(db, review) == datetime(2027, 10, 20, 15, 0, tzinfo=UTC)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    time_input = re.search(r'<input[^>]*name="factual_check-at"[^>]*>', page).group(0)
    assert 'value=""' in time_input or "value=" not in time_input
    assert 'value="2027-10-20"' in page  # the date is still offered
    assert "17:00" in page  # the current deadline stays shown beside the form
    expected = _deadline(db, review).isoformat()
    # the form as the page offers it, with only the date changed
    assert (
        _post(client, review, "2027-10-22", **{"factual_check-expected": expected}).status_code
        == 302
    )
    assert _deadline(db, review) == datetime(2027, 10, 22, 21, 59, 59, tzinfo=UTC)  # CEST (+2)


def test_the_review_teams_deadline_card_flags_only_the_current_stage(
    db, make, login_as, client, frozen_now
):
    """In evaluation the self-assessment deadline has passed long ago: the reviewer's invitation
    and evaluation pages must not call it overdue; the evaluation deadline, once past, is."""
    review = _review_in(make, "Europe/Berlin")
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    reviewer = make.reviewer("BRA")
    assignment = make.assignment(review, reviewer, status=AssignmentStatus.ACCEPTED)
    login_as(reviewer)
    frozen_now(_deadline(db, review, "self_assessment") + timedelta(days=1))
    page = client.get(f"/assignments/{assignment.id}").get_data(as_text=True)
    assert "Deadlines" in page and "overdue" not in page
    frozen_now(_deadline(db, review, "evaluation") + timedelta(seconds=1))
    assert "overdue" in client.get(f"/assignments/{assignment.id}").get_data(as_text=True)


def test_a_past_date_is_refused_until_confirmed_and_the_typing_is_kept(
    db, make, login_as, client, frozen_now
):
    review = _review_in(make, "Europe/Berlin")
    login_as(make.secretariat())
    frozen_now(datetime(2027, 5, 10, 12, 0, tzinfo=UTC))
    before = _deadline(db, review)
    # 2026 typed for 2027: the stage would be overdue at once
    refused = _post(client, review, "2026-05-20", reason="Typo check: kept reason.")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "already past" in page
    assert "Typo check: kept reason." in page and 'value="2026-05-20"' in page
    assert "factual_check-confirm_past" in page
    assert _deadline(db, review) == before and _changes(db) == 0
    # confirmed: saved and on the record
    confirmed = _post(client, review, "2026-05-20", **{"factual_check-confirm_past": "y"})
    assert confirmed.status_code == 302
    assert _deadline(db, review) == datetime(2026, 5, 20, 21, 59, 59, tzinfo=UTC)
    assert _changes(db) == 1
    # the moment itself counts as past; one second later does not
    frozen_now(datetime(2027, 6, 1, 21, 59, 59, tzinfo=UTC))
    assert _post(client, review, "2027-06-01").status_code == 422
    frozen_now(datetime(2027, 6, 1, 21, 59, 58, tzinfo=UTC))
    assert _post(client, review, "2027-06-01").status_code == 302
