"""The Review, Assignment and Cycle lifecycles: definitions, role rules and guards."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select

from app.models import Review, TransitionLog
from tests.factories import prepared_review
from workflows import ASSIGNMENT, CYCLE, REVIEW, InvalidTransition, ReviewStatus, TransitionRefused

IDENTITIES = [
    "secretariat",
    "focal_point",
    "other_focal_point",
    "lead_reviewer",
    "member_reviewer",
    "unassigned_reviewer",
    "anonymous",
]
#: Which identities the transition table's `by` names admit.
ADMITTED = {
    "secretariat": {"secretariat"},
    "focal_point": {"focal_point"},
    "lead_reviewer": {"lead_reviewer"},
}
REASONED = {spec.event for spec in REVIEW.specs if spec.needs_reason}


def test_workflows_package_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, workflows; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_review_table_covers_every_event_of_the_design():
    assert REVIEW.events == [
        "submit_self_assessment",
        "return_self_assessment",
        "accept_self_assessment",
        "start_evaluation",
        "submit_draft_report",
        "submit_factual_comments",
        "return_draft_report",
        "adopt_report",
        "submit_response",
        "escalate",
        "deescalate",
        "hold_another_round",
        "give_formal_notice",
        "close_review",
        "close_into_next_cycle",
        "withdraw",
        "reopen",
    ]
    assert set(ASSIGNMENT.events) == {
        "accept",
        "decline",
        "declare_conflict",
        "submit_evaluation",
        "return_evaluation",
        "withdraw_assignment",
        "reinstate",
    }
    assert CYCLE.events == ["open_cycle", "close_cycle"]


def test_machines_are_shared_and_never_attached_to_rows():
    for lifecycle in (REVIEW, ASSIGNMENT, CYCLE):
        assert lifecycle.machine.models == []
        assert lifecycle.machine.auto_transitions is False


def test_withdraw_is_possible_from_every_open_status_only():
    for status in ReviewStatus:
        if status in (ReviewStatus.CLOSED, ReviewStatus.WITHDRAWN):
            with pytest.raises(InvalidTransition):
                REVIEW.fire(status, "withdraw", {"reason": "x"})
        else:
            assert REVIEW.fire(status, "withdraw", {"reason": "x"}) == "withdrawn"


def test_guards_give_reasons_a_person_can_read():
    with pytest.raises(TransitionRefused) as refused:
        REVIEW.fire(
            "self_assessment",
            "submit_self_assessment",
            {"cycle_status": "open", "missing_required": ["SEC-1"]},
        )
    assert "SEC-1" in str(refused.value)
    with pytest.raises(TransitionRefused, match="reason"):
        REVIEW.fire("screening", "return_self_assessment", {"reason": "  "})
    with pytest.raises(TransitionRefused, match="1 of 3 reviewers"):
        REVIEW.fire(
            "peer_assignment",
            "start_evaluation",
            {"team_size": 3, "accepted_reviewers": 1, "lead_count": 1},
        )


def _client_for(identity, prepared, app, login_as):
    client = app.test_client()
    if identity != "anonymous":
        login_as(prepared.identities[identity], on=client)
    return client


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("spec", REVIEW.specs, ids=lambda s: s.event)
def test_every_review_event_is_accepted_from_its_role_and_refused_from_others(
    app, db, make, login_as, spec, identity
):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus(spec.sources[0])
    if spec.event == "submit_factual_comments":  # sent once per draft: not sent yet here
        db.session.execute(
            delete(TransitionLog).where(TransitionLog.event == "submit_factual_comments")
        )
    if spec.event == "close_into_next_cycle":  # the state's next cycle is open
        make.review("KEN", make.cycle("2031 cycle", starts_on=date(2031, 1, 1)))
    db.session.commit()
    client = _client_for(identity, prepared, app, login_as)
    logged_before = {row.id for row in db.session.scalars(select(TransitionLog))}
    data = {"expected_status": review.status.value}
    if spec.event in REASONED:
        data["reason"] = "Reason for the record."
    response = client.post(f"/reviews/{review.id}/events/{spec.event}", data=data)
    db.session.expire_all()
    after = db.session.get(Review, review.id)
    logs = db.session.scalars(
        select(TransitionLog).where(TransitionLog.id.not_in(logged_before))
    ).all()
    if identity in ADMITTED[spec.by]:
        assert response.status_code == 302, response.get_data(as_text=True)[:400]
        assert after.status == (spec.dest or spec.sources[0])
        assert [(log.event, log.actor_id) for log in logs] == [
            (spec.event, prepared.identities[identity].id)
        ]
    else:
        expected = {302, 401} if identity == "anonymous" else {403, 404}
        assert response.status_code in expected
        if identity == "anonymous" and spec.event in REASONED:
            # a typed reason is shown back with a sign-in link, not dropped by a redirect
            assert response.status_code == 401
            assert "Reason for the record." in response.get_data(as_text=True)
        elif identity == "anonymous":
            assert "/login" in response.headers["Location"]
        assert after.status == spec.sources[0]
        assert logs == []


def test_refused_guard_keeps_the_typed_reason_and_changes_nothing(app, db, make, login_as, client):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.FACTUAL_CHECK
    db.session.commit()
    login_as(prepared.identities["secretariat"])
    response = client.post(
        f"/reviews/{review.id}/events/return_draft_report",
        data={"expected_status": "factual_check", "reason": "   "},
    )
    assert response.status_code == 422
    assert "Please give a reason" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == ReviewStatus.FACTUAL_CHECK


def test_stale_status_answers_someone_acted_first(app, db, make, login_as, client):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    login_as(prepared.identities["secretariat"])
    first = client.post(
        f"/reviews/{review.id}/events/accept_self_assessment",
        data={"expected_status": "screening"},
    )
    second = client.post(
        f"/reviews/{review.id}/events/accept_self_assessment",
        data={"expected_status": "screening"},
    )
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Someone acted first" in second.get_data(as_text=True)
    logs = db.session.scalars(
        select(TransitionLog).where(TransitionLog.event == "accept_self_assessment")
    ).all()
    assert len(logs) == 1


def _in_factual_check_without_comments_sent(db, make):
    """Kenya's prepared review in factual check, the state not having sent its comments yet;
    returns (prepared, factual-check deadline as an aware UTC instant)."""
    from app.models import ReviewDeadline

    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.FACTUAL_CHECK
    for row in db.session.scalars(
        select(TransitionLog).where(TransitionLog.event == "submit_factual_comments")
    ):
        db.session.delete(row)
    db.session.commit()
    deadline = db.session.scalar(
        select(ReviewDeadline.due_at).where(
            ReviewDeadline.review_id == review.id, ReviewDeadline.stage == "factual_check"
        )
    )
    return prepared, deadline


def _adopt(client, review):
    return client.post(
        f"/reviews/{review.id}/events/adopt_report", data={"expected_status": "factual_check"}
    )


def test_adopt_waits_until_the_state_sent_its_comments_even_none(
    db, make, login_as, client, frozen_now
):
    prepared, deadline = _in_factual_check_without_comments_sent(db, make)
    review = prepared.review
    frozen_now(deadline - timedelta(days=3))
    login_as(prepared.identities["secretariat"])
    early = _adopt(client, review)
    assert early.status_code == 422
    assert "deadline has not passed" in early.get_data(as_text=True)
    login_as(prepared.identities["focal_point"])
    sent = client.post(
        f"/reviews/{review.id}/events/submit_factual_comments",
        data={"expected_status": "factual_check"},
    )
    assert sent.status_code == 302
    login_as(prepared.identities["secretariat"])
    assert _adopt(client, review).status_code == 302  # still before the deadline
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == ReviewStatus.RESPONSE


def test_adopt_is_possible_once_the_factual_check_deadline_passed(
    db, make, login_as, client, frozen_now
):
    prepared, deadline = _in_factual_check_without_comments_sent(db, make)
    login_as(prepared.identities["secretariat"])
    frozen_now(deadline - timedelta(seconds=1))
    assert _adopt(client, prepared.review).status_code == 422
    frozen_now(deadline + timedelta(seconds=1))
    assert _adopt(client, prepared.review).status_code == 302
    db.session.expire_all()
    assert db.session.get(Review, prepared.review.id).status == ReviewStatus.RESPONSE
