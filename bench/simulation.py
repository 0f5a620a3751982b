"""A whole review cycle through the workflow engine, timed (issue 9, ``flask bench simulate``).

`simulate_cycle` creates a fresh cycle of ``states`` states (the first by name) and takes every
review from the self-assessment to closure, phase by phase as a real cycle runs: open the cycle;
each state answers and submits its self-assessment; the secretariat accepts it and assigns three
peer reviewers, who accept; the evaluation starts; each reviewer writes and submits an
evaluation; the lead drafts the report with its recommendations and submits it; the state sends
its factual comments; the secretariat adopts the report; the state responds to every
recommendation and submits; the secretariat assesses each recommendation and closes the review;
finally the cycle is closed. **Every status change goes through**
`app.services.transitions.apply_transition` (role rule, row lock, guards, side effects, one
TransitionLog row, one commit each). The texts people would type are written in bulk between the
steps (one commit per phase), as the data entry is not what is measured; its time is reported
apart.

Notifications: each step queues its e-mails inside its own transaction, as in production, but
``MAIL_DELIVER_AFTER_COMMIT`` is switched off for the run (and restored after): delivery is the
outbox's job (`flask --app wsgi outbox send`, from cron), not the workflow engine's. After the
cycle is closed one `app.services.notifications.deliver_due` pass sends what the run queued; its
time and count are reported apart (``delivery_seconds``, ``delivered``).

Accounts come from the benchmark data set (`bench.data`): missing ones (run on a
database without ``bench seed``) are created with the same e-mails and shared password hash.
"""

from __future__ import annotations

import random
import threading
import time as timer
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, insert, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import (
    Answer,
    AnswerType,
    Assessment,
    AssessmentStatus,
    Assignment,
    Choice,
    Cycle,
    Evaluation,
    EvaluationSection,
    Framework,
    FrameworkSection,
    Notification,
    Priority,
    Question,
    Recommendation,
    Report,
    ReportSection,
    Response,
    ResponsePosition,
    Review,
    Role,
    State,
    User,
    current,
)
from app.services import clock, cycles, notifications, reference
from app.services.transitions import apply_transition
from bench import data as bench_data
from bench.data import BenchRefused


@dataclass
class SimulationResult:
    """What `simulate_cycle` did: the cycle's name, transitions fired per event, and seconds:
    ``seconds`` in all (``cpu_seconds`` of them on this process's CPU: on a shared machine the
    figure that other load does not inflate), ``transition_seconds`` inside `apply_transition`
    (with loading the actor and the object, as a request does), ``setup_seconds`` creating the
    cycle, its reviews and teams, and ``data_seconds`` writing the typed texts. ``queued``:
    e-mails the steps queued; ``delivered`` of them sent by the delivery pass after the cycle,
    in ``delivery_seconds`` (not part of ``seconds``)."""

    cycle_name: str = ""
    events: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    transition_seconds: float = 0.0
    setup_seconds: float = 0.0
    data_seconds: float = 0.0
    cpu_seconds: float = 0.0
    queued: int = 0
    delivered: int = 0
    delivery_seconds: float = 0.0
    #: SQL statements run by the transitions (loading actor and object, `apply_transition`)
    transition_statements: int = 0

    @property
    def transitions(self) -> int:
        return sum(self.events.values())


def simulate_cycle(
    states: int = 193, recommendations: int = 40, seed: int = 0, workers: int = 1
) -> SimulationResult:
    """Take a fresh cycle of ``states`` states (3–193: those of the benchmark data set first,
    then others, by name) through the whole workflow; see the module docstring.
    ``recommendations`` per report (1–200). ``workers`` (1–16): how many people act at once
    (threads, each step its own session and transaction, as concurrent requests).

    Returns a `SimulationResult`; every review ends closed and the cycle closed.
    Raises:
        BenchRefused: under the production config, before ``flask seed``, arguments out of range.
        workflows.TransitionRefused: a guard refused a step (a bug in the simulation or engine).
    """
    bench_data.refuse_unless_allowed(
        "The simulation", states=states, recommendations=recommendations
    )
    if not 1 <= workers <= 16:
        raise BenchRefused("--workers must be between 1 and 16.")
    framework = reference.latest_framework()
    # the states of the benchmark data set first (those with a bench focal point), then by name
    seeded = (
        select(User.id)
        .where(User.state_id == State.id, User.email.like(f"fp.%@{bench_data.DOMAIN}"))
        .exists()
    )
    chosen = db.session.scalars(
        select(State).order_by(seeded.desc(), State.name).limit(states)
    ).all()
    if framework is None or len(chosen) < states:
        raise BenchRefused("Run `flask --app wsgi seed` first (states and framework).")
    simulation = _Simulation(framework.id, chosen, recommendations, random.Random(seed), workers)
    config = current_app.config
    deliver_after_commit = config.get("MAIL_DELIVER_AFTER_COMMIT", True)
    # the steps queue their e-mails as in production; sending them is the outbox's job
    config["MAIL_DELIVER_AFTER_COMMIT"] = False
    engine = db.engine
    event.listen(engine, "before_cursor_execute", simulation.count_statement)
    try:
        result = simulation.run()
    finally:
        config["MAIL_DELIVER_AFTER_COMMIT"] = deliver_after_commit
        event.remove(engine, "before_cursor_execute", simulation.count_statement)
    db.session.close()
    result.queued = db.session.scalar(
        select(db.func.count(Notification.id))
        .join(Review, Notification.review_id == Review.id)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(Cycle.name == result.cycle_name)
    )
    started = timer.perf_counter()
    while True:  # one pass over everything due (deliver_due takes at most `limit` per call)
        counts = notifications.deliver_due(clock.now(), limit=1000)
        handled = counts.sent + counts.failed + counts.abandoned + counts.skipped
        result.delivered += counts.sent
        if handled == 0 or counts.deferred:
            break
    result.delivery_seconds = timer.perf_counter() - started
    return result


class _Simulation:
    def __init__(
        self,
        framework_id: int,
        states: Sequence[State],
        per_report: int,
        rng: random.Random,
        workers: int = 1,
    ):
        self.workers = workers
        self.counting = threading.Lock()
        self.inside = threading.local()  # .on: this thread is firing a transition
        self.framework_id = framework_id
        self.states = [_StateInfo(s.id, s.code, s.name, s.regional_group) for s in states]
        self.per_report = per_report
        self.rng = rng
        self.result = SimulationResult()
        # plain rows, not ORM objects: the session is closed between steps
        self.sections = db.session.execute(
            select(FrameworkSection.id, FrameworkSection.title_en.label("title"))
            .where(FrameworkSection.framework_id == framework_id)
            .order_by(FrameworkSection.number)
        ).all()
        self.questions = db.session.execute(
            select(Question.id, Question.answer_type)
            .join(FrameworkSection)
            .where(FrameworkSection.framework_id == framework_id)
        ).all()
        self.texts = bench_data.upr_recommendations()
        self.state_names = {s.id: s.name for s in self.states}

    # -- helpers --

    def count_statement(self, *_args: Any) -> None:
        """Engine listener: one more SQL statement, if this thread is inside `fire`."""
        if getattr(self.inside, "on", False):
            with self.counting:
                self.result.transition_statements += 1

    def fire(self, actor_id: int, model: type, subject_id: int, event: str, **kwargs: Any) -> None:
        """Fire ``event`` on the ``model`` row ``subject_id`` as user ``actor_id``, as one request
        would: a fresh session that loads the signed-in user and the object, then
        `apply_transition` (which locks, re-reads, checks, logs and commits)."""
        db.session.close()
        started = timer.perf_counter()
        self.inside.on = True
        try:
            actor = db.session.get(User, actor_id)
            subject = db.session.get(model, subject_id)
            apply_transition(actor, subject, event, **kwargs)
        finally:
            self.inside.on = False
        with self.counting:
            self.result.transition_seconds += timer.perf_counter() - started
            self.result.events[event] += 1

    def fire_all(self, steps: Iterable[tuple]) -> None:
        """`fire` each ``(actor id, model, subject id, event[, keyword arguments])``: one after
        the other, or with ``workers`` threads at once, each step in its own application
        context and session, as concurrent requests of different people would be."""
        steps = list(steps)
        if self.workers == 1:
            for step in steps:
                self.fire(*step[:4], **(step[4] if len(step) > 4 else {}))
            return
        app = current_app._get_current_object()

        def one(step: tuple) -> None:
            with app.app_context(), app.test_request_context():
                self.fire(*step[:4], **(step[4] if len(step) > 4 else {}))
                db.session.remove()

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for _done in pool.map(one, steps):  # re-raises the first failure
                pass

    def write(self, work: Callable[[], None]) -> None:
        """Run ``work`` (bulk writes of typed text) and commit, timed as data entry."""
        started = timer.perf_counter()
        work()
        db.session.commit()
        self.result.data_seconds += timer.perf_counter() - started

    # -- the run --

    def run(self) -> SimulationResult:
        started, cpu = timer.perf_counter(), timer.process_time()
        self.accounts()
        now = clock.now()
        name = f"Bench simulation {now:%Y-%m-%d %H:%M:%S.%f}"
        self.result.cycle_name = name
        cycle = cycles.create_cycle(
            name,
            db.session.get(Framework, self.framework_id),
            now.date(),
            bench_data.TIME_ZONE,
            team_size=bench_data.TEAM_SIZE,
        )
        reviews = cycles.add_reviews(cycle, [db.session.get(State, s.id) for s in self.states])
        db.session.commit()
        self.result.setup_seconds = timer.perf_counter() - started

        cycle_id, secretariat = cycle.id, self.secretariat_id
        ids = [(review.id, self.focal_points[review.state_id]) for review in reviews]
        self.state_of = {review.id: review.state_id for review in reviews}
        self.fire(secretariat, Cycle, cycle_id, "open_cycle")
        self.write(lambda: self.answers(ids))
        self.fire_all((fp, Review, review_id, "submit_self_assessment") for review_id, fp in ids)
        self.fire_all((secretariat, Review, r, "accept_self_assessment") for r, _fp in ids)
        teams = self.teams(ids)
        members = [member for review_id, _fp in ids for member in teams[review_id]]
        self.fire_all(
            (reviewer, Assignment, assignment, "accept", {"facts": {"no_conflict": True}})
            for reviewer, assignment in members
        )
        self.fire_all((secretariat, Review, r, "start_evaluation") for r, _fp in ids)
        self.write(lambda: self.evaluations(teams))
        self.fire_all(
            (reviewer, Assignment, assignment, "submit_evaluation")
            for reviewer, assignment in members
        )
        self.write(lambda: self.reports(ids))
        self.fire_all((teams[r][0][0], Review, r, "submit_draft_report") for r, _fp in ids)
        self.fire_all((fp, Review, r, "submit_factual_comments") for r, fp in ids)
        self.fire_all((secretariat, Review, r, "adopt_report") for r, _fp in ids)
        self.write(lambda: self.responses(ids))
        self.fire_all((fp, Review, r, "submit_response") for r, fp in ids)
        self.write(lambda: self.assessments(ids))
        self.fire_all((secretariat, Review, r, "close_review") for r, _fp in ids)
        self.fire(secretariat, Cycle, cycle_id, "close_cycle")
        self.result.seconds = timer.perf_counter() - started
        self.result.cpu_seconds = timer.process_time() - cpu
        return self.result

    def accounts(self) -> None:
        """The bench secretariat, and a focal point and two reviewers per state; created (one
        shared password hash) when ``bench seed`` did not make them."""
        wanted = [(bench_data.SECRETARIAT_EMAIL, "Bench Secretariat", Role.SECRETARIAT, None)]
        for state in self.states:
            wanted.append(
                (
                    bench_data.focal_point_email(state.code),
                    f"Focal point of {state.name}",
                    Role.FOCAL_POINT,
                    state.id,
                )
            )
            for number in (1, 2):
                wanted.append(
                    (
                        bench_data.reviewer_email(state.code, number),
                        f"Reviewer {number} of {state.name}",
                        Role.REVIEWER,
                        state.id,
                    )
                )
        emails = [email for email, *_rest in wanted]
        have = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
        missing = [row for row in wanted if row[0] not in have]
        if missing:
            method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
            shared = generate_password_hash(bench_data.PASSWORD, method=method)
            db.session.execute(
                insert(User),
                [
                    {
                        "email": email,
                        "display_name": name,
                        "role": role,
                        "state_id": state_id,
                        "password_hash": shared,
                        "active": True,
                    }
                    for email, name, role, state_id in missing
                ],
            )
            db.session.commit()
        users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
        self.secretariat_id = users[bench_data.SECRETARIAT_EMAIL].id
        self.focal_points = {
            s.id: users[bench_data.focal_point_email(s.code)].id for s in self.states
        }
        self.pool = [
            (s, _Person(users[bench_data.reviewer_email(s.code, number)].id))
            for s in self.states
            for number in (1, 2)
        ]

    # -- what people type, written in bulk --

    def answers(self, ids: Sequence[tuple[int, int]]) -> None:
        answered = set(
            db.session.execute(
                select(Answer.review_id, Answer.question_id).where(
                    Answer.review_id.in_([review_id for review_id, _fp in ids])
                )
            ).all()
        )
        rows = []
        for review_id, focal_point in ids:
            for question in self.questions:
                if (review_id, question.id) in answered:
                    continue
                level = self.rng.randint(0, 4)
                rows.append(
                    {
                        "review_id": review_id,
                        "question_id": question.id,
                        "level": level
                        if question.answer_type == AnswerType.CAPACITY_LEVEL
                        else None,
                        "choice": self.rng.choice(list(Choice))
                        if question.answer_type == AnswerType.YES_NO_PARTIAL
                        else None,
                        "narrative": self.rng.choice(bench_data.NARRATIVES).format(
                            state=self.state_names[self.state_of[review_id]],
                            level=bench_data.LEVEL_WORDS[level],
                        ),
                        "updated_by_id": focal_point,
                    }
                )
        db.session.execute(insert(Answer), rows)

    def teams(self, ids: Sequence[tuple[int, int]]) -> dict[int, list[tuple[int, int]]]:
        """The secretariat assigns three reviewers per review, each through
        `cycles.assign_reviewer` (its checks, the invitation's TransitionLog row and e-mail); the
        first is the lead. Setup, not a status change: every team is drawn in one transaction
        (reviews and people loaded once), as a draw for the whole cycle is. Returns review id →
        (reviewer id, assignment id) per seat."""
        load: Counter = Counter()
        pairs: set[tuple[int, int]] = set()
        states = {s.id: s for s in self.states}
        teams: dict[int, list[tuple[int, int]]] = {}
        started = timer.perf_counter()
        db.session.close()
        review_ids = [review_id for review_id, _fp in ids]
        reviews = {
            r.id: r for r in db.session.scalars(select(Review).where(Review.id.in_(review_ids)))
        }
        people = {
            u.id: u
            for u in db.session.scalars(
                select(User).where(
                    User.id.in_([person.id for _s, person in self.pool] + [self.secretariat_id])
                )
            )
        }
        secretariat = people[self.secretariat_id]
        for review_id in review_ids:
            state = states[self.state_of[review_id]]
            chosen: list[tuple[_StateInfo, _Person]] = []
            for _seat in range(bench_data.TEAM_SIZE):
                candidates = bench_data._candidates(self.pool, chosen, state, load, pairs)
                chosen.append(self.rng.choice(candidates))
                load[chosen[-1][1].id] += 1
            pairs.update((s.id, state.id) for s, _p in chosen)
            assignments = [
                cycles.assign_reviewer(
                    reviews[review_id], people[person.id], secretariat, is_lead=seat == 0
                )
                for seat, (_s, person) in enumerate(chosen)
            ]
            teams[review_id] = [
                (person.id, assignment.id)
                for (_s, person), assignment in zip(chosen, assignments, strict=True)
            ]
        db.session.commit()
        self.result.setup_seconds += timer.perf_counter() - started
        return teams

    def evaluations(self, teams: dict[int, list[tuple[int, int]]]) -> None:
        assignment_ids = [a for team in teams.values() for _u, a in team]
        evaluation_ids = db.session.scalars(
            insert(Evaluation).returning(Evaluation.id, sort_by_parameter_order=True),
            [
                {"assignment_id": i, "summary": "Evaluation of the self-assessment."}
                for i in assignment_ids
            ],
        ).all()
        db.session.execute(
            insert(EvaluationSection),
            [
                {
                    "evaluation_id": evaluation_id,
                    "section_id": section.id,
                    "rating": self.rng.randint(0, 4),
                    "findings": self.rng.choice(bench_data.FINDINGS).format(section=section.title),
                }
                for evaluation_id in evaluation_ids
                for section in self.sections
            ],
        )

    def reports(self, ids: Sequence[tuple[int, int]]) -> None:
        report_ids = db.session.scalars(
            insert(Report).returning(Report.id, sort_by_parameter_order=True),
            [
                {"review_id": review_id, "executive_summary": "Summary of the review."}
                for review_id, _fp in ids
            ],
        ).all()
        db.session.execute(
            insert(ReportSection),
            [
                {"report_id": report_id, "section_id": section.id, "consensus_rating": 2}
                for report_id in report_ids
                for section in self.sections
            ],
        )
        target = clock.now().date() + timedelta(days=365)
        rows = []
        for review_id, _fp in ids:
            for _ in range(self.per_report):
                category, text = self.rng.choice(self.texts)
                rows.append(
                    {
                        "review_id": review_id,
                        "section_id": self.rng.choice(self.sections).id,
                        "text": text,
                        "priority": self.rng.choice(list(Priority)),
                        "action_category": category,
                        "target_date": target,
                    }
                )
        db.session.execute(insert(Recommendation), rows)

    def _recommendation_ids(self, ids: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        return db.session.execute(
            select(Recommendation.review_id, Recommendation.id).where(
                Recommendation.review_id.in_([review_id for review_id, _fp in ids])
            )
        ).all()

    def responses(self, ids: Sequence[tuple[int, int]]) -> None:
        focal_points = dict(ids)
        target = clock.now().date() + timedelta(days=365)
        db.session.execute(
            insert(Response),
            [
                {
                    "recommendation_id": recommendation_id,
                    "position": ResponsePosition.SUPPORTED,
                    "explanation": "The government agrees.",
                    "planned_action": "Draft and adopt the necessary regulations.",
                    "responsible_institution": self.rng.choice(bench_data.INSTITUTIONS),
                    "target_date": target,
                    "updated_by_id": focal_points[review_id],
                }
                for review_id, recommendation_id in self._recommendation_ids(ids)
            ],
        )

    def assessments(self, ids: Sequence[tuple[int, int]]) -> None:
        pairs = self._recommendation_ids(ids)
        db.session.execute(
            insert(Assessment),
            [
                {
                    "recommendation_id": recommendation_id,
                    "status": self.rng.choice(list(AssessmentStatus)),
                    "author_id": self.secretariat_id,
                }
                for _review_id, recommendation_id in pairs
            ],
        )
        current.refresh(
            db.session, recommendation_ids=[recommendation_id for _r, recommendation_id in pairs]
        )


@dataclass(frozen=True)
class _StateInfo:
    """A state taking part, as plain values (survives the session being closed)."""

    id: int
    code: str
    name: str
    regional_group: str


@dataclass(frozen=True)
class _Person:
    """A reviewer of the draw pool, by user id (survives the session being closed)."""

    id: int


def _backend_name() -> str:
    return "log" if current_app.config.get("MAIL_BACKEND") == "log" else "SMTP server"


def summary_lines(result: SimulationResult, states: int) -> list[str]:
    """Lines to print after a simulation: what was done and how long it took."""
    return [
        f"Cycle {result.cycle_name!r}: {states} reviews taken from self-assessment to closed.",
        f"{result.transitions} transitions through apply_transition "
        f"({', '.join(f'{event} {count}' for event, count in sorted(result.events.items()))}).",
        f"Transitions: {result.transition_seconds:.2f} s (summed over workers) "
        f"({1000 * result.transition_seconds / max(1, result.transitions):.2f} ms each; "
        f"{result.transition_statements / max(1, result.transitions):.1f} SQL statements each); "
        f"setting up the cycle and teams: {result.setup_seconds:.2f} s; "
        f"writing the texts: {result.data_seconds:.2f} s.",
        f"Elapsed: {result.seconds:.2f} s ({result.cpu_seconds:.2f} s of CPU in this process); "
        f"{result.queued} e-mails queued by the steps, left for the outbox.",
        f"Outbox (not part of the workflow; `outbox send` from cron): delivered "
        f"{result.delivered} messages to the {_backend_name()} in {result.delivery_seconds:.2f} s.",
    ]
