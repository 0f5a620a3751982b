"""`flask bench seed`: the full-size data set (issue 9), checked at a small size.

The data is written with bulk inserts, so these tests check that it is what the transition service
would have left: replaying each subject's TransitionLog gives its status, and the facts the
guards read (`app.services.transitions.review_facts`) allow every step the log records.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import (
    Assignment,
    Cycle,
    Notification,
    NotificationStatus,
    Recommendation,
    Response,
    Review,
    State,
    TransitionLog,
    User,
)
from app.services import reference
from app.services.transitions import review_facts
from bench import data as bench_data
from workflows import CYCLE, REVIEW, AssignmentStatus, CycleStatus, ReviewStatus

R = ReviewStatus


@pytest.fixture
def seeded(runner, db):
    result = runner.invoke(args=["bench", "seed", "--states", "14", "--cycles", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return result


def _replay(db, subject_type: str, subject_id: int, initial: str) -> str:
    logs = db.session.scalars(
        select(TransitionLog)
        .where(TransitionLog.subject_type == subject_type, TransitionLog.subject_id == subject_id)
        .order_by(TransitionLog.id)
    ).all()
    status = initial
    for log in logs:
        assert log.from_state == status, (subject_type, subject_id, log.event)
        status = log.to_state
    return status


def test_seed_builds_cycles_of_reviews_with_every_phase_and_prints_what_it_made(seeded, db):
    cycles = db.session.scalars(select(Cycle).order_by(Cycle.starts_on)).all()
    assert [c.status for c in cycles] == [CycleStatus.CLOSED, CycleStatus.OPEN]
    assert all(c.name.startswith("Bench ") for c in cycles)
    for cycle in cycles:
        assert db.session.scalar(select(func.count()).where(Review.cycle_id == cycle.id)) == 14
    assert {r.status for r in cycles[0].reviews} == {R.CLOSED}
    latest = {r.status for r in cycles[1].reviews}
    assert latest >= {R.SELF_ASSESSMENT, R.EVALUATION, R.RESPONSE, R.FOLLOW_UP, R.CLOSED}
    assert "recommendation: " in seeded.output and "Built in " in seeded.output
    assert "bench.secretariat@bench.test" in seeded.output


def test_replaying_the_log_gives_every_status(seeded, db):
    for review in db.session.scalars(select(Review)):
        assert _replay(db, "review", review.id, REVIEW.initial) == review.status
    for assignment in db.session.scalars(select(Assignment)):
        assert _replay(db, "assignment", assignment.id, "") == assignment.status
    for cycle in db.session.scalars(select(Cycle)):
        assert _replay(db, "cycle", cycle.id, CYCLE.initial) == cycle.status


def test_every_review_meets_the_guards_of_the_steps_its_log_records(seeded, db, app):
    for review in db.session.scalars(select(Review)):
        facts = review_facts(review, review.status_changed_at)
        order = bench_data.ORDER.index(review.status)
        if order >= bench_data.ORDER.index(R.SCREENING):
            assert facts["missing_required"] == [], review
        if order >= bench_data.ORDER.index(R.FACTUAL_CHECK):
            assert facts["accepted_reviewers"] == 3 and facts["lead_count"] == 1
            assert facts["open_conflicts"] == 0 and facts["unsubmitted_assignments"] == 0
            assert facts["unrated_sections"] == [] and facts["recommendation_count"] >= 1
        if order >= bench_data.ORDER.index(R.FOLLOW_UP):
            assert facts["unanswered_recommendations"] == 0
        if review.status == R.CLOSED:
            assert facts["unassessed_recommendations"] == 0
        if review.status == R.RESPONSE:
            assert 0 < facts["unanswered_recommendations"] < facts["recommendation_count"]


def test_teams_never_include_the_reviewed_state_and_mostly_mix_regional_groups(seeded, db):
    mixed = teams = 0
    for review in db.session.scalars(select(Review)):
        members = db.session.scalars(
            select(User)
            .join(Assignment, Assignment.reviewer_id == User.id)
            .where(Assignment.review_id == review.id)
        ).all()
        if not members:
            continue
        teams += 1
        assert all(m.state_id != review.state_id for m in members)
        mixed += len({m.state.regional_group for m in members}) == len(members)
    assert teams and mixed >= teams * 0.8


def test_recommendations_are_real_upr_texts_with_responses(seeded, db):
    texts = {text for _category, text in bench_data.upr_recommendations()}
    rows = db.session.scalars(select(Recommendation.text)).all()
    assert len(rows) > 100 and set(rows) <= texts
    assert db.session.scalar(select(func.count(Response.id))) > 0


def test_seed_refuses_a_second_run_and_the_production_config(seeded, runner, app):
    again = runner.invoke(args=["bench", "seed", "--states", "3", "--cycles", "1"])
    assert again.exit_code != 0 and "already" in again.output
    app.config["DEMO_ALLOWED"] = False
    refused = runner.invoke(args=["bench", "seed", "--states", "3", "--cycles", "1"])
    assert refused.exit_code != 0 and "production" in refused.output


def test_seed_is_deterministic_for_a_seed(app, db):
    result = bench_data.seed_bench(states=5, cycles=1, recommendations=4, seed=11)
    assert result.rows["review"] == 5
    written = db.session.scalars(
        select(State.code).join(Review, Review.state_id == State.id).order_by(Review.id)
    ).all()
    framework = reference.latest_framework()
    everyone = db.session.scalars(select(State).order_by(State.code)).all()

    def drawn(seed):
        builder = bench_data._Builder(framework, everyone, 5, 1, 4, seed)
        return [s.code for s in builder.states]

    assert drawn(11) == written
    assert drawn(12) != written


def test_accounts_name_a_follow_up_review_its_focal_point_and_lead(seeded, runner, client, db):
    result = runner.invoke(args=["bench", "accounts"])
    accounts = json.loads(result.output)
    review = db.session.get(Review, accounts["review_id"])
    assert review.status == R.FOLLOW_UP and review.cycle_id == accounts["cycle_id"]
    assert accounts["focal_point"] == f"fp.{review.state.code.lower()}@bench.test"
    lead = db.session.get(Assignment, accounts["assignment_id"])
    assert lead.review_id == review.id and lead.is_lead
    assert lead.reviewer.email == accounts["reviewer"]
    assert lead.status == AssignmentStatus.SUBMITTED
    for email in (accounts["secretariat"], accounts["focal_point"], accounts["reviewer"]):
        response = client.post("/login", data={"email": email, "password": accounts["password"]})
        assert response.status_code == 302, email
        client.post("/logout")


@pytest.mark.parametrize("workers", ["1", "3"])
def test_simulate_takes_a_fresh_cycle_through_every_step_via_the_transition_service(
    runner, db, workers
):
    before = db.session.scalar(select(func.count(TransitionLog.id)))
    result = runner.invoke(
        args=["bench", "simulate", "--states", "5", "--recommendations", "3", "--workers", workers]
    )
    assert result.exit_code == 0, result.output
    assert "Elapsed: " in result.output and "transitions through apply_transition" in result.output
    cycle = db.session.scalar(select(Cycle).where(Cycle.name.like("Bench simulation %")))
    assert cycle.status == CycleStatus.CLOSED
    reviews = db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)).all()
    assert len(reviews) == 5 and {r.status for r in reviews} == {R.CLOSED}
    for review in reviews:
        events = db.session.scalars(
            select(TransitionLog.event)
            .where(TransitionLog.subject_type == "review", TransitionLog.subject_id == review.id)
            .order_by(TransitionLog.id)
        ).all()
        assert events == [
            "submit_self_assessment",
            "accept_self_assessment",
            "start_evaluation",
            "submit_draft_report",
            "submit_factual_comments",
            "adopt_report",
            "submit_response",
            "close_review",
        ]
        assert _replay(db, "review", review.id, REVIEW.initial) == R.CLOSED
        team = db.session.scalars(select(Assignment).where(Assignment.review_id == review.id))
        for assignment in team:
            assert assignment.status == AssignmentStatus.SUBMITTED
            assert _replay(db, "assignment", assignment.id, "") == AssignmentStatus.SUBMITTED
    # 5 reviews × (8 review steps + 3 invitations + 3 acceptances + 3 submissions) + 2 cycle steps
    after = db.session.scalar(select(func.count(TransitionLog.id)))
    assert after - before == 5 * 17 + 2
    # the steps queued their e-mails; one outbox pass after the cycle sent every one of them
    statuses = db.session.scalars(
        select(Notification.status)
        .join(Review, Review.id == Notification.review_id)
        .where(Review.cycle_id == cycle.id)
    ).all()
    assert len(statuses) > 5 * 3 and set(statuses) == {NotificationStatus.SENT}
    assert f"delivered {len(statuses)} messages to the log in " in result.output
    assert f"{len(statuses)} e-mails queued by the steps" in result.output


def test_simulate_leaves_delivery_to_the_outbox_pass_and_restores_the_setting(
    runner, db, app, monkeypatch
):
    from app.services import notifications

    passes = []
    deliver_due = notifications.deliver_due

    def counted(now, **kwargs):
        # when the pass starts, every message of the run is still waiting: none was sent
        # after a step's commit
        passes.append(
            db.session.scalar(
                select(func.count(Notification.id)).where(
                    Notification.status != NotificationStatus.QUEUED
                )
            )
        )
        return deliver_due(now, **kwargs)

    monkeypatch.setattr(notifications, "deliver_due", counted)
    app.config["MAIL_DELIVER_AFTER_COMMIT"] = True
    result = runner.invoke(args=["bench", "simulate", "--states", "3", "--recommendations", "1"])
    assert result.exit_code == 0, result.output
    assert passes and passes[0] == 0
    assert app.config["MAIL_DELIVER_AFTER_COMMIT"] is True


def test_simulate_on_top_of_the_seed_carries_over_and_is_refused_in_production(
    seeded, runner, db, app
):
    result = runner.invoke(args=["bench", "simulate", "--states", "4", "--recommendations", "2"])
    assert result.exit_code == 0, result.output
    cycle = db.session.scalar(select(Cycle).where(Cycle.name.like("Bench simulation %")))
    carried = db.session.scalar(
        select(func.count(Recommendation.id))
        .join(Review, Review.id == Recommendation.review_id)
        .where(Review.cycle_id == cycle.id, Recommendation.carried_from_id.is_not(None))
    )
    # the simulated states are the seed's: their unimplemented recommendations came along
    assert cycle.status == CycleStatus.CLOSED and carried > 0
    app.config["DEMO_ALLOWED"] = False
    refused = runner.invoke(args=["bench", "simulate", "--states", "4"])
    assert refused.exit_code != 0 and "production" in refused.output


def test_later_cycles_carry_over_what_the_service_would_carry(seeded, db):
    from app.services.carry_over import UNIMPLEMENTED, carry_over
    from app.services.publication import latest_assessments

    latest = db.session.scalar(select(Cycle).where(Cycle.status == CycleStatus.OPEN))
    carried = db.session.scalars(
        select(Recommendation)
        .join(Review, Review.id == Recommendation.review_id)
        .where(Review.cycle_id == latest.id, Recommendation.carried_from_id.is_not(None))
    ).all()
    assert carried
    assessed = latest_assessments([r.carried_from_id for r in carried])
    for copy in carried:
        original = db.session.get(Recommendation, copy.carried_from_id)
        assert original.review.state_id == copy.review.state_id
        assert original.review.cycle_id != latest.id and original.text == copy.text
        assessment = assessed.get(original.id)
        assert assessment is None or assessment.status in UNIMPLEMENTED
    for review in latest.reviews:
        assert carry_over(review) == []  # the service finds nothing left to carry
    db.session.rollback()
