"""The demo data set: `flask --app wsgi demo` (app/demo.py, app/data/demo/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from app import demo
from app.models import (
    Assignment,
    Cycle,
    Framework,
    FrameworkSection,
    Question,
    Recommendation,
    Review,
    ReviewDeadline,
    Role,
    TransitionLog,
    User,
)
from app.services import clock
from workflows import AssignmentStatus, CycleStatus, ReviewStatus

R = ReviewStatus
CYCLE_NAME = "2027 review cycle"
#: Status-changing review events in workflow order (submit_factual_comments changes nothing).
REVIEW_PATH = [
    R.SELF_ASSESSMENT,
    R.SCREENING,
    R.PEER_ASSIGNMENT,
    R.EVALUATION,
    R.FACTUAL_CHECK,
    R.RESPONSE,
    R.FOLLOW_UP,
]


def run_demo(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result


def demo_cycle(db) -> Cycle:
    return db.session.scalar(select(Cycle).where(Cycle.name == CYCLE_NAME))


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Cycle, Review, Assignment, Recommendation, TransitionLog)
    }


def test_demo_command_prints_accounts_password_and_address(runner):
    result = run_demo(runner)

    lines = result.output.splitlines()
    assert lines[0] == f'Demo cycle "{CYCLE_NAME}" created with 8 reviews.'
    assert any(line.split()[:2] == ["secretariat@demo.test", "secretariat"] for line in lines)
    assert any(
        line.split()[:4] == ["fp.ken@demo.test", "focal", "point", "Kenya"] for line in lines
    )
    assert any(
        line.split()[:5] == ["reviewer.pol@demo.test", "peer", "reviewer", "Poland", "—"]
        for line in lines
    )
    assert "demo-password" in lines[-1] and "http://127.0.0.1:5000" in lines[-1]
    # 20 of the review cycle, 2 international partners and 2 stakeholders (issue 18)
    assert len([line for line in lines if "@demo.test" in line]) == 24


def test_demo_cycle_is_open_on_the_latest_framework_with_reviews_in_every_phase(runner, db):
    run_demo(runner)

    cycle = demo_cycle(db)
    assert cycle.status == CycleStatus.OPEN
    assert (cycle.framework.code, cycle.framework.version) == ("r2p-capacity", 1)
    assert cycle.team_size == 2
    statuses = {review.state.code: review.status for review in cycle.reviews}
    assert len(statuses) == 8
    assert set(REVIEW_PATH) <= set(statuses.values())
    assert {R.CLOSED, R.ENHANCED_FOLLOW_UP} & set(statuses.values())
    assert statuses["KEN"] == R.SELF_ASSESSMENT
    assert statuses["GHA"] == R.SCREENING
    groups = {review.state.regional_group for review in cycle.reviews}
    assert len(groups) == 5  # every UN regional group takes part


def test_review_in_self_assessment_has_a_future_deadline_and_history_lies_in_the_past(
    app, runner, db
):
    run_demo(runner)

    kenya = next(r for r in demo_cycle(db).reviews if r.state.code == "KEN")
    due = db.session.scalar(
        select(ReviewDeadline.due_at).where(
            ReviewDeadline.review_id == kenya.id, ReviewDeadline.stage == "self_assessment"
        )
    )
    now = clock.now()
    assert due > now
    latest = db.session.scalar(select(func.max(TransitionLog.created_at)))
    assert latest < now
    assert "PILLARS_FROZEN_NOW" not in app.config  # the backdating clock was restored


def test_demo_dates_count_back_from_the_application_clock(app, runner, db, frozen_now):
    frozen = frozen_now(datetime(2027, 3, 1, 12, 0, tzinfo=UTC))

    run_demo(runner)

    days = demo.read_plan()["cycle"]["starts_days_ago"]
    assert demo_cycle(db).starts_on == frozen.date() - timedelta(days=days)
    assert app.config["PILLARS_FROZEN_NOW"] == frozen  # a test's frozen clock is left as it was


def test_every_demo_step_is_in_the_transition_log(runner, db):
    run_demo(runner)
    cycle = demo_cycle(db)

    cycle_events = db.session.scalars(
        select(TransitionLog.event).where(
            TransitionLog.subject_type == "cycle", TransitionLog.subject_id == cycle.id
        )
    ).all()
    assert cycle_events == ["open_cycle"]
    for review in cycle.reviews:
        logs = db.session.scalars(
            select(TransitionLog)
            .where(TransitionLog.subject_type == "review", TransitionLog.subject_id == review.id)
            .order_by(TransitionLog.created_at, TransitionLog.id)
        ).all()
        moves = [log for log in logs if log.from_state != log.to_state]
        chain = [R.SELF_ASSESSMENT] + [log.to_state for log in moves]
        assert all(a.from_state == b for a, b in zip(moves, chain, strict=False)), review
        assert chain[-1] == review.status
        expected = (
            REVIEW_PATH[: REVIEW_PATH.index(review.status) + 1]
            if (review.status in REVIEW_PATH)
            else REVIEW_PATH + [review.status]
        )
        assert chain == expected
        assert all(log.actor_id is not None for log in logs)
    for assignment in db.session.scalars(select(Assignment)):
        logs = db.session.scalars(
            select(TransitionLog)
            .where(
                TransitionLog.subject_type == "assignment",
                TransitionLog.subject_id == assignment.id,
            )
            .order_by(TransitionLog.created_at, TransitionLog.id)
        ).all()
        assert logs[0].event == "invite"
        assert logs[-1].to_state == assignment.status


def test_factual_check_review_has_comments_and_response_review_is_partly_answered(runner, db):
    run_demo(runner)
    reviews = {r.state.code: r for r in demo_cycle(db).reviews}

    events = db.session.scalars(
        select(TransitionLog.event).where(
            TransitionLog.subject_type == "review",
            TransitionLog.subject_id == reviews["POL"].id,
        )
    ).all()
    assert "submit_factual_comments" in events
    costa_rica = db.session.scalars(
        select(Recommendation).where(Recommendation.review_id == reviews["CRI"].id)
    ).all()
    answered = [r for r in costa_rica if r.response is not None and r.response.position]
    assert 0 < len(answered) < len(costa_rica)
    for code in ("POL", "CRI", "IDN", "NOR"):
        total = db.session.scalar(
            select(func.count(Recommendation.id)).where(
                Recommendation.review_id == reviews[code].id
            )
        )
        assert 4 <= total <= 8, code


def test_reviewers_never_review_their_own_state_and_teams_mix_regional_groups(runner, db):
    run_demo(runner)

    teams: dict[int, list[Assignment]] = {}
    for assignment in db.session.scalars(select(Assignment)):
        reviewer, review = assignment.reviewer, assignment.review
        assert reviewer.role == Role.REVIEWER
        assert reviewer.state_id != review.state_id
        assert reviewer.state.regional_group != review.state.regional_group
        teams.setdefault(review.id, []).append(assignment)
    assert len(teams) == 6
    for team in teams.values():
        assert len({a.reviewer.state.regional_group for a in team}) == len(team) == 2
        assert sum(1 for a in team if a.is_lead) == 1
    invited = [a for team in teams.values() for a in team if a.status == AssignmentStatus.INVITED]
    assert len(invited) == 1  # one invitation still open in peer assignment


def test_running_demo_twice_adds_nothing_and_prints_the_same_accounts(runner, db):
    first = run_demo(runner).output.splitlines()
    before = counts(db)

    second = run_demo(runner).output.splitlines()

    assert counts(db) == before
    assert second[0] == f'Demo cycle "{CYCLE_NAME}" is already there; nothing was added.'
    assert second[1:] == first[1:]


def test_demo_is_refused_when_the_config_does_not_allow_it(app, runner, db):
    app.config["DEMO_ALLOWED"] = False

    result = runner.invoke(args=["demo"])

    assert result.exit_code != 0
    assert "not available under the production config" in result.output
    assert demo_cycle(db) is None


def test_demo_without_seeded_reference_data_says_to_run_seed(runner, db):
    db.session.execute(delete(Question))
    db.session.execute(delete(FrameworkSection))
    db.session.execute(delete(Framework))
    db.session.commit()

    result = runner.invoke(args=["demo"])

    assert result.exit_code == 1
    assert "flask --app wsgi seed" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(RuntimeError, match="seed"):
        demo.load_demo()
    assert demo_cycle(db) is None


def test_every_demo_account_can_sign_in_with_the_demo_password(runner, client, db, login_as):
    run_demo(runner)
    emails = [account["email"] for account in demo.accounts_of(demo.read_plan())]
    assert len(emails) == 24  # with the partners and stakeholders of issue 18

    for email in emails:
        user = db.session.scalar(select(User).where(User.email == email))
        # the test config requires the secretariat's second step, as production: login_as does it
        login_as(user, password="demo-password")
        assert client.get("/home", follow_redirects=True).status_code == 200, email


def test_demo_accounts_have_unicode_names_and_their_states(runner, db):
    run_demo(runner)

    users = {u.email: u for u in db.session.scalars(select(User))}
    assert users["fp.pol@demo.test"].display_name == "Katarzyna Wiśniewska"
    assert users["reviewer.pol@demo.test"].display_name == "Łukasz Nowak"
    assert users["fp.ken@demo.test"].state.code == "KEN"
    assert users["fp.ken@demo.test"].role == Role.FOCAL_POINT
    assert users["secretariat@demo.test"].role == Role.SECRETARIAT


def test_secretariat_can_open_every_demo_review(runner, client, db, login_as):
    run_demo(runner)
    secretariat = db.session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    login_as(secretariat, password="demo-password")

    for review in demo_cycle(db).reviews:
        page = client.get(f"/reviews/{review.id}")
        assert page.status_code == 200
        assert review.state.name in page.get_data(as_text=True)


def test_demo_names_the_address_it_was_asked_for(runner):
    """`make run PORT=5200` passes the port on: the printed sign-in address is the served one."""
    result = runner.invoke(args=["demo", "--url", "http://127.0.0.1:5200"])
    assert result.exit_code == 0, result.output
    assert "sign in at http://127.0.0.1:5200" in result.output
    assert "5000" not in result.output


def test_the_demo_fills_the_outbox_as_its_reviews_move(runner, db):
    """Issue 6: the secretariat running the demo sees the outbox filled by the cycle's steps."""
    from app.models import Notification

    run_demo(runner)
    kinds = dict(
        db.session.execute(
            select(Notification.kind, func.count(Notification.id)).group_by(Notification.kind)
        ).all()
    )
    assert kinds["invitation"] == db.session.scalar(select(func.count(Assignment.id)))
    for kind in ("self_assessment_submitted", "team_complete", "factual_check", "response_due"):
        assert kinds.get(kind, 0) >= 1, kind
    statuses = set(db.session.scalars(select(Notification.status)))
    assert statuses == {"sent"}  # MAIL_BACKEND=log: delivered to the log


def test_reminders_on_the_demo_remind_the_brazil_lead_and_escalate_costa_rica_once(runner):
    run_demo(runner)
    first = runner.invoke(args=["reminders", "run"])
    assert first.exit_code == 0, first.output
    assert "queued reminder (7 d before): Brazil" in first.output
    assert "queued reminder (at the deadline): Costa Rica" in first.output
    assert "queued overdue (3 d overdue): Costa Rica" in first.output
    # Indonesia's action plan has a measure past its due date (issue 17): told once, not escalated
    assert (
        "queued reminder (at the deadline): Indonesia — 2027 review cycle, measure" in first.output
    )
    assert "overdue): Indonesia" not in first.output
    assert first.output.strip().splitlines()[-1] == "reminders queued: 4"
    second = runner.invoke(args=["reminders", "run"])
    assert second.output.strip().splitlines()[-1] == "reminders queued: 0"


def test_demo_has_partners_programmes_and_screened_submissions(runner, db, app):
    """Issue 18: a programme under way and one evaluated by both parties and published; an
    anonymous stakeholder's accepted submission on Brazil whose identity Brazil never sees."""
    from sqlalchemy import select

    from app.models import (
        Programme,
        ProgrammeStatus,
        StakeholderSubmission,
        SubmissionStatus,
        User,
    )

    run_demo(runner)
    programmes = db.session.scalars(select(Programme)).all()
    assert {p.status for p in programmes} == {ProgrammeStatus.UNDER_WAY, ProgrammeStatus.COMPLETED}
    assert any(p.published for p in programmes)
    library = app.test_client().get("/library/assistance").get_data(as_text=True)
    assert "Paralegal network for remote provinces" in library
    submissions = db.session.scalars(select(StakeholderSubmission)).all()
    assert {s.status for s in submissions} >= {
        SubmissionStatus.ACCEPTED,
        SubmissionStatus.CHANGES_REQUESTED,
    }
    assert any(s.anonymous and s.status == SubmissionStatus.ACCEPTED for s in submissions)
    client = app.test_client()
    client.post("/login", data={"email": "fp.bra@demo.test", "password": "demo-password"})
    brazil = db.session.scalar(select(User).where(User.email == "fp.bra@demo.test"))
    review_id = next(s.review_id for s in submissions if s.review.state_id == brazil.state_id)
    page = client.get(f"/reviews/{review_id}/stakeholders").get_data(as_text=True)
    assert "body-worn cameras" in page and "Instituto Vozes da Periferia" not in page
