"""Enhanced follow-up as a procedure (issue 17; GRECO / FATF): entering it sets the shorter
progress deadline, each round ends with the secretariat's decision (back to regular follow-up,
another round, formal notice), every step is logged and announced, and the proposal to enter it
is made once at a passed progress deadline when the "not implemented" share reaches the cycle's
threshold. The clock is frozen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.models import (
    Assessment,
    AssessmentStatus,
    EnhancedProposal,
    EnhancedRound,
    Notification,
    ReviewDeadline,
    TransitionLog,
)
from app.services import enhanced_follow_up
from app.services.transitions import apply_transition
from tests.factories import prepared_review
from workflows import ReviewStatus, TransitionRefused

NOW = datetime(2027, 9, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def review_in_follow_up(db, make, frozen_now):
    frozen_now(NOW)
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    return prepared


def _deadline(db, review):
    due = db.session.scalar(
        select(ReviewDeadline.due_at).where(
            ReviewDeadline.review_id == review.id, ReviewDeadline.stage == "follow_up"
        )
    )
    return due.astimezone(ZoneInfo(review.cycle.time_zone))


def _kinds(db, review):
    return set(
        db.session.scalars(select(Notification.kind).where(Notification.review_id == review.id))
    )


def test_escalating_opens_round_one_with_the_enhanced_interval(db, review_in_follow_up):
    prepared = review_in_follow_up
    review, sec = prepared.review, prepared.identities["secretariat"]
    apply_transition(sec, review, "escalate", reason="Half the recommendations stalled.")
    assert review.status == ReviewStatus.ENHANCED_FOLLOW_UP
    due = _deadline(db, review)
    assert (due.date(), due.hour, due.minute) == (date(2028, 3, 15), 23, 59)  # 6 months
    (round_one,) = enhanced_follow_up.rounds_of(review)
    assert (round_one.number, round_one.decision) == (1, None)
    assert round_one.reason == "Half the recommendations stalled."
    assert "escalation" in _kinds(db, review)


@pytest.mark.parametrize(
    ("event", "decision", "status_after", "months", "kind"),
    [
        ("deescalate", "back_to_regular", ReviewStatus.FOLLOW_UP, 12, "back_to_regular_follow_up"),
        (
            "hold_another_round",
            "another_round",
            ReviewStatus.ENHANCED_FOLLOW_UP,
            6,
            "another_enhanced_round",
        ),
        (
            "give_formal_notice",
            "formal_notice",
            ReviewStatus.ENHANCED_FOLLOW_UP,
            6,
            "formal_notice",
        ),
    ],
)
def test_each_round_ends_with_the_secretariats_decision(
    db, review_in_follow_up, frozen_now, event, decision, status_after, months, kind
):
    prepared = review_in_follow_up
    review, sec = prepared.review, prepared.identities["secretariat"]
    apply_transition(sec, review, "escalate", reason="Stalled.")
    decided = frozen_now(datetime(2028, 3, 20, 10, 0, tzinfo=UTC))
    log = apply_transition(sec, review, event, reason="Decision of the secretariat.")
    assert review.status == status_after
    assert (log.event, log.reason) == (event, "Decision of the secretariat.")
    rounds = enhanced_follow_up.rounds_of(review)
    assert str(rounds[0].decision) == decision
    assert rounds[0].decided_at == decided
    assert rounds[0].decision_reason == "Decision of the secretariat."
    if status_after == ReviewStatus.ENHANCED_FOLLOW_UP:
        assert [r.number for r in rounds] == [1, 2] and rounds[1].decision is None
    else:
        assert len(rounds) == 1
    due = _deadline(db, review)
    expected = date(2028 + (3 + months > 12), (3 + months - 1) % 12 + 1, 20)
    assert due.date() == expected
    assert kind in _kinds(db, review)
    focal_point = prepared.identities["focal_point"]
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.recipient_id == focal_point.id, Notification.kind == kind
            )
        )
        == 1
    )


def test_a_decision_needs_a_reason_and_the_secretariat(db, review_in_follow_up):
    from werkzeug.exceptions import Forbidden

    prepared = review_in_follow_up
    review, sec = prepared.review, prepared.identities["secretariat"]
    apply_transition(sec, review, "escalate", reason="Stalled.")
    with pytest.raises(TransitionRefused, match="reason"):
        apply_transition(sec, review, "give_formal_notice", reason="  ")
    with pytest.raises(Forbidden):
        apply_transition(prepared.identities["focal_point"], review, "deescalate", reason="x")
    assert (
        db.session.scalar(
            select(func.count(TransitionLog.id)).where(TransitionLog.event == "give_formal_notice")
        )
        == 0
    )
    assert enhanced_follow_up.rounds_of(review)[0].decision is None


def test_the_secretariat_runs_a_round_to_its_decision_in_the_browser(
    db, review_in_follow_up, login_as
):
    prepared = review_in_follow_up
    review = prepared.review
    client = login_as(prepared.identities["secretariat"])
    url = f"/reviews/{review.id}/events"
    assert (
        client.post(
            f"{url}/escalate", data={"reason": "Stalled.", "expected_status": "follow_up"}
        ).status_code
        == 302
    )
    page = client.get(f"/reviews/{review.id}/action-plan").get_data(as_text=True)
    assert "Enhanced follow-up" in page and "Hold another enhanced round" in page
    assert "Withdraw review" not in page  # only the procedure's own steps here
    assert (
        client.post(
            f"{url}/give_formal_notice",
            data={"reason": "No progress in two rounds.", "expected_status": "enhanced_follow_up"},
        ).status_code
        == 302
    )
    page = client.get(f"/reviews/{review.id}/action-plan").get_data(as_text=True)
    assert "Formal notice — the plenary will discuss compliance" in page
    assert "No progress in two rounds." in page


def test_enhanced_follow_up_is_proposed_once_when_the_threshold_is_passed(
    db, review_in_follow_up, frozen_now
):
    from app.models import Recommendation

    prepared = review_in_follow_up
    review = prepared.review
    prepared.review_recommendation_id = db.session.scalar(
        select(Recommendation.id).where(Recommendation.review_id == review.id)
    )
    enhanced_follow_up.set_progress_deadline(review, datetime(2027, 9, 1, tzinfo=UTC))
    db.session.commit()
    # latest assessment "implemented" (from the factory): 0 % not implemented, nothing proposed
    assert enhanced_follow_up.propose_due(NOW) == []
    frozen_now(datetime(2027, 9, 15, 9, 0, tzinfo=UTC))
    db.session.add(
        Assessment(
            recommendation_id=prepared.review_recommendation_id,
            status=AssessmentStatus.NOT_IMPLEMENTED,
            note="",
            author_id=prepared.identities["secretariat"].id,
            created_at=datetime(2027, 9, 15, 9, 0, tzinfo=UTC),
        )
    )
    db.session.commit()
    made = enhanced_follow_up.propose_due(datetime(2027, 9, 15, 9, 30, tzinfo=UTC))
    db.session.commit()
    assert [(p.share, p.threshold) for p in made] == [(100, 50)]
    assert enhanced_follow_up.propose_due(datetime(2027, 9, 15, 10, 0, tzinfo=UTC)) == []
    db.session.commit()
    assert db.session.scalar(select(func.count(EnhancedProposal.id))) == 1
    assert "enhanced_proposed" in _kinds(db, review)
    # escalating settles the proposal; the review is no longer proposed
    apply_transition(prepared.identities["secretariat"], review, "escalate", reason="Proposed.")
    assert enhanced_follow_up.open_proposal(review) is None
    assert db.session.scalar(select(func.count(EnhancedRound.id))) == 1


def test_the_secretariat_sets_the_follow_up_intervals_and_threshold_of_a_cycle(
    client, db, login_as, make
):
    from app.models import Cycle
    from tests.test_admin import _cycle_form

    login_as(make.secretariat())
    data = _cycle_form(db) | {
        "regular_interval_months": "9",
        "enhanced_interval_months": "3",
        "not_implemented_threshold": "40",
    }
    assert client.post("/admin/cycles/new", data=data).status_code == 302
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == "2028 cycle"))
    assert (cycle.regular_interval_months, cycle.enhanced_interval_months) == (9, 3)
    assert cycle.not_implemented_threshold == 40
    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    assert "every 9 months; in enhanced follow-up every 3 months" in page
    refused = client.post(
        "/admin/cycles/new", data=data | {"name": "Other", "enhanced_interval_months": "0"}
    )
    assert refused.status_code == 422
