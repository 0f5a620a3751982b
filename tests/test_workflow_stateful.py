"""Random walks through the review workflow (Hypothesis stateful testing).

Each run builds a fresh review (answers given, two invited reviewers with full evaluations, a
report with one recommendation answered by the state) and then fires random events of the Review
and Assignment lifecycles as random people through `apply_transition`, with or without a reason,
while the secretariat's assessment of the recommendation comes and goes. After every step:

1. every status is a status of its lifecycle;
2. replaying the TransitionLog from the initial status gives the current status, each row
   starting where the previous one ended (review and each assignment);
3. a refused event changed nothing: status, version and log count as before;
4. an accepted event led where the transition table says, with exactly one log row for it;
5. a closed review has every recommendation assessed.

The number of events fired is counted and must reach 5,000 over the runs.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import event, func, select
from werkzeug.exceptions import Forbidden

from app.models import (
    Addressee,
    Assessment,
    AssessmentStatus,
    Assignment,
    Evaluation,
    EvaluationSection,
    Priority,
    Recommendation,
    Report,
    ReportSection,
    Response,
    ResponsePosition,
    Review,
    State,
    TransitionLog,
)
from app.services.transitions import ActedFirst, apply_transition
from tests.factories import fill_required_answers
from workflows import (
    ASSIGNMENT,
    REVIEW,
    AssignmentStatus,
    InvalidTransition,
    ReviewStatus,
    TransitionRefused,
)

MIN_STEPS = 5000
#: Runs per round of Hypothesis; rounds repeat until MIN_STEPS events were fired.
RUNS = 20
STEPS_PER_RUN = 100
MAX_ROUNDS = 8
REFUSALS = (Forbidden, InvalidTransition, TransitionRefused, ActedFirst)
EVENTS = [("review", e) for e in REVIEW.events] + [("assignment", e) for e in ASSIGNMENT.events]
IDENTITIES = [
    "secretariat",
    "focal_point",
    "other_focal_point",
    "lead_reviewer",
    "member_reviewer",
    "unassigned_reviewer",
]

#: Set by the test before the runs: the db, factories, shared people and states to review.
WORLD: dict = {}


def _new_review():
    db, make = WORLD["db"], WORLD["make"]
    code = WORLD["codes"].pop()
    focal_point = make.focal_point(code)
    review = make.review(code, WORLD["cycle"])
    fill_required_answers(db, review, focal_point)
    sections = review.cycle.framework.sections
    secretariat = WORLD["people"]["secretariat"]
    assignments = {}
    for who, lead in (("lead_reviewer", True), ("member_reviewer", False)):
        a = make.assignment(review, WORLD["people"][who], lead=lead, actor=secretariat)
        evaluation = Evaluation(assignment_id=a.id, summary="Summary")
        db.session.add(evaluation)
        db.session.flush()
        for s in sections:
            db.session.add(
                EvaluationSection(evaluation_id=evaluation.id, section_id=s.id, rating=2)
            )
        assignments[who] = a.id
    report = Report(review_id=review.id, executive_summary="Summary")
    db.session.add(report)
    db.session.flush()
    for s in sections:
        db.session.add(ReportSection(report_id=report.id, section_id=s.id, consensus_rating=3))
    rec = Recommendation(
        review_id=review.id,
        section_id=sections[0].id,
        text="Adopt a national action plan on atrocity prevention.",
        priority=Priority.HIGH,
        action_category=4,
        addressee=Addressee.STATE,
    )
    db.session.add(rec)
    db.session.flush()
    db.session.add(
        Response(
            recommendation_id=rec.id,
            position=ResponsePosition.SUPPORTED,
            explanation="The government supports it.",
            planned_action="A national action plan by 2028.",
            responsible_institution="Ministry of Justice",
            target_date=date(2028, 6, 30),
        )
    )
    db.session.commit()
    people = dict(WORLD["people"], focal_point=focal_point)
    return review.id, assignments, rec.id, people


#: Events that go backwards or end a walk; the "forward" mode avoids them so that walks get deep
#: (events added to the tables later are simply treated as forward).
DETOURS = {
    "withdraw",
    "return_self_assessment",
    "return_draft_report",
    "escalate",
    "deescalate",
    "reopen",
    "close_into_next_cycle",
    "decline",
    "declare_conflict",
    "withdraw_assignment",
    "return_evaluation",
}
MODES = ["any event", "possible event", "possible event by its actor", "forward", "forward"]


def _log_count(db, lifecycle: str, subject_id: int) -> int:
    return db.session.scalar(
        select(func.count(TransitionLog.id)).where(
            TransitionLog.subject_type == lifecycle, TransitionLog.subject_id == subject_id
        )
    )


class ReviewWalk(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.db = WORLD["db"]
        self.review_id, self.assignments, self.rec_id, self.people = _new_review()

    def _model(self, lifecycle: str):
        return Review if lifecycle == "review" else Assignment

    def _id(self, on: str) -> int:
        return self.review_id if on == "review" else self.assignments[on]

    def _state(self, lifecycle: str, subject_id: int) -> tuple[str, int]:
        """(status, version) as stored, read past the session's identity map."""
        model = self._model(lifecycle)
        status, version = self.db.session.execute(
            select(model.status, model.version_id).where(model.id == subject_id)
        ).one()
        return str(status), version

    def _actor_for(self, by: str, on: str, data) -> str:
        """The identity the transition table names for ``by`` on this subject."""
        if by == "assigned_reviewer":
            return on
        if by == "secretariat_or_lead":
            return data.draw(st.sampled_from(["secretariat", "lead_reviewer"]))
        return by

    def _pick(self, data, mode: str, machine, before: str, on: str):
        """(event, identity, reason, no_conflict) for ``mode``."""
        reason = data.draw(st.sampled_from(["", "   ", "Reason for the record."]))
        no_conflict = data.draw(st.booleans())
        possible = machine.specs_from(before)
        if mode == "forward":
            possible = [spec for spec in possible if spec.event not in DETOURS]
        if mode == "any event" or not possible:
            event = data.draw(st.sampled_from(machine.events))
            return event, data.draw(st.sampled_from(IDENTITIES)), reason, no_conflict
        spec = data.draw(st.sampled_from(possible))
        if mode == "possible event":
            return spec.event, data.draw(st.sampled_from(IDENTITIES)), reason, no_conflict
        if mode == "forward":
            reason, no_conflict = "Reason for the record.", True
        return spec.event, self._actor_for(spec.by, on, data), reason, no_conflict

    @rule(
        data=st.data(),
        mode=st.sampled_from(MODES),
        on=st.sampled_from(["review", "lead_reviewer", "member_reviewer"]),
        toggle=st.sampled_from([False] * 7 + [True]),
    )
    def fire(self, data, mode, on, toggle):
        """Fire one event: any event of the lifecycle by anyone; or one the table allows from the
        current status, by anyone or by the actor it names; or a step forward. Now and then the
        secretariat first records or takes back its assessment of the recommendation."""
        db = self.db
        if toggle:
            self._toggle_assessment()
        lifecycle = "review" if on == "review" else "assignment"
        machine = REVIEW if lifecycle == "review" else ASSIGNMENT
        subject_id = self._id(on)
        before, version = self._state(lifecycle, subject_id)
        event, identity, reason, no_conflict = self._pick(data, mode, machine, before, on)
        logs = _log_count(db, lifecycle, subject_id)
        subject = db.session.get(self._model(lifecycle), subject_id)
        WORLD["steps"] += 1
        try:
            apply_transition(
                self.people[identity],
                subject,
                event,
                reason=reason,
                expected_status=before,
                facts={"no_conflict": no_conflict},
            )
        except REFUSALS:
            assert self._state(lifecycle, subject_id) == (before, version), (event, identity)
            assert _log_count(db, lifecycle, subject_id) == logs, (event, identity)
            WORLD["refused"] += 1
            return
        after, _version = self._state(lifecycle, subject_id)
        assert after == machine.target(event, before)
        assert _log_count(db, lifecycle, subject_id) == logs + 1
        WORLD["done"].add((lifecycle, event))

    def _toggle_assessment(self):
        """The secretariat records, or takes back, its assessment of the recommendation (never
        on a closed review: assessments are posted during follow-up)."""
        db = self.db
        if self._state("review", self.review_id)[0] == ReviewStatus.CLOSED:
            return
        existing = db.session.scalar(
            select(Assessment).where(Assessment.recommendation_id == self.rec_id)
        )
        if existing is None:
            db.session.add(
                Assessment(
                    recommendation_id=self.rec_id,
                    status=AssessmentStatus.PARTIALLY_IMPLEMENTED,
                    note="Partly done.",
                    author_id=self.people["secretariat"].id,
                )
            )
        else:
            db.session.delete(existing)
        db.session.commit()

    @invariant()
    def invariants_hold(self):
        """Known statuses; the log replays to them; a closed review is fully assessed."""
        db = self.db
        current = {("review", self.review_id): self._state("review", self.review_id)[0]}
        for assignment_id, status in db.session.execute(
            select(Assignment.id, Assignment.status).where(
                Assignment.id.in_(list(self.assignments.values()))
            )
        ):
            current[("assignment", assignment_id)] = str(status)
        for (lifecycle, _id), status in current.items():
            known = ReviewStatus if lifecycle == "review" else AssignmentStatus
            assert status in {s.value for s in known}
        replayed = {key: (REVIEW.initial if key[0] == "review" else "") for key in current}
        rows = db.session.execute(
            select(
                TransitionLog.subject_type,
                TransitionLog.subject_id,
                TransitionLog.from_state,
                TransitionLog.to_state,
            )
            .where(
                (
                    (TransitionLog.subject_type == "review")
                    & (TransitionLog.subject_id == self.review_id)
                )
                | (
                    (TransitionLog.subject_type == "assignment")
                    & TransitionLog.subject_id.in_(list(self.assignments.values()))
                )
            )
            .order_by(TransitionLog.id)
        )
        for lifecycle, subject_id, from_state, to_state in rows:
            key = (lifecycle, subject_id)
            assert from_state == replayed[key], (key, from_state, replayed[key])
            replayed[key] = to_state
        assert replayed == current
        if current[("review", self.review_id)] == ReviewStatus.CLOSED:
            unassessed = db.session.scalar(
                select(func.count(Recommendation.id)).where(
                    Recommendation.review_id == self.review_id,
                    ~Recommendation.id.in_(select(Assessment.recommendation_id)),
                )
            )
            assert unassessed == 0


def _fast_sqlite_commits(db) -> None:
    """SQLite only: skip the fsync of each commit (durability against power loss is not under
    test here; atomicity and isolation are unchanged), so thousands of steps fit in a minute."""
    if db.engine.dialect.name != "sqlite":
        return
    event.listen(
        db.engine,
        "connect",
        lambda connection, _record: connection.execute("PRAGMA synchronous=OFF"),
    )
    db.session.remove()
    db.engine.dispose()


def test_random_events_by_random_people_keep_every_invariant(db, make):
    _fast_sqlite_commits(db)
    cycle = make.cycle(name="Random walks", team_size=2)
    taken = {"BRA", "POL", "NOR", "GHA"}
    codes = [
        c for c in db.session.scalars(select(State.code).order_by(State.code)) if c not in taken
    ]
    WORLD.clear()
    WORLD.update(
        db=db,
        make=make,
        cycle=cycle,
        codes=codes,
        steps=0,
        refused=0,
        done=set(),
        people={
            "secretariat": make.secretariat(),
            "other_focal_point": make.focal_point("GHA"),
            "lead_reviewer": make.reviewer("BRA"),
            "member_reviewer": make.reviewer("POL"),
            "unassigned_reviewer": make.reviewer("NOR"),
        },
    )
    walk_settings = settings(
        max_examples=RUNS,
        stateful_step_count=STEPS_PER_RUN,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    rounds = 0
    while WORLD["steps"] < MIN_STEPS and rounds < MAX_ROUNDS:
        run_state_machine_as_test(ReviewWalk, settings=walk_settings)
        rounds += 1
    print(
        f"stateful walk: {WORLD['steps']} events fired, {WORLD['refused']} refused, "
        f"{len(WORLD['done'])} distinct events accepted in {rounds} round(s) of {RUNS} runs"
    )
    assert WORLD["steps"] >= MIN_STEPS
    # the walk reached deep into the workflow, not only refusals at the first status
    assert ("review", "close_review") in WORLD["done"]
    assert ("review", "withdraw") in WORLD["done"]
