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

Accounts come from the benchmark data set (`app.services.bench_data`): missing ones (run on a
database without ``bench seed``) are created with the same e-mails and shared password hash.
"""

from __future__ import annotations

import random
import time as timer
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import (
    Answer,
    AnswerType,
    Assessment,
    AssessmentStatus,
    Assignment,
    Choice,
    Evaluation,
    EvaluationSection,
    Framework,
    FrameworkSection,
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
)
from app.services import bench_data, clock, cycles, reference
from app.services.bench_data import BenchRefused
from app.services.transitions import apply_transition


@dataclass
class SimulationResult:
    """What `simulate_cycle` did: the cycle's name, transitions fired per event, and seconds:
    ``seconds`` in all, ``transition_seconds`` inside `apply_transition`, ``setup_seconds``
    creating the cycle and its reviews and ``data_seconds`` writing the typed texts."""

    cycle_name: str = ""
    events: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    transition_seconds: float = 0.0
    setup_seconds: float = 0.0
    data_seconds: float = 0.0

    @property
    def transitions(self) -> int:
        return sum(self.events.values())


def simulate_cycle(states: int = 193, recommendations: int = 40, seed: int = 0) -> SimulationResult:
    """Take a fresh cycle of ``states`` states (3–193) through the whole workflow; see the module
    docstring. ``recommendations`` per report (1–200).

    Returns a `SimulationResult`; every review ends closed and the cycle closed.
    Raises:
        BenchRefused: under the production config, before ``flask seed``, arguments out of range.
        workflows.TransitionRefused: a guard refused a step (a bug in the simulation or engine).
    """
    if not current_app.config.get("DEMO_ALLOWED"):
        raise BenchRefused("The simulation is not available under the production config.")
    if not 3 <= states <= 193:
        raise BenchRefused("--states must be between 3 and 193.")
    if not 1 <= recommendations <= 200:
        raise BenchRefused("--recommendations must be between 1 and 200.")
    framework = reference.latest_framework()
    chosen = db.session.scalars(select(State).order_by(State.name).limit(states)).all()
    if framework is None or len(chosen) < states:
        raise BenchRefused("Run `flask --app wsgi seed` first (states and framework).")
    return _Simulation(framework.id, chosen, recommendations, random.Random(seed)).run()


class _Simulation:
    def __init__(
        self, framework_id: int, states: Sequence[State], per_report: int, rng: random.Random
    ):
        self.framework_id = framework_id
        self.states = list(states)
        self.per_report = per_report
        self.rng = rng
        self.result = SimulationResult()
        self.sections = db.session.scalars(
            select(FrameworkSection)
            .where(FrameworkSection.framework_id == framework_id)
            .order_by(FrameworkSection.number)
        ).all()
        self.questions = db.session.scalars(
            select(Question)
            .join(FrameworkSection)
            .where(FrameworkSection.framework_id == framework_id)
        ).all()
        self.texts = bench_data.upr_recommendations()

    # -- helpers --

    def fire(self, actor: User, subject: Any, event: str, **kwargs: Any) -> None:
        started = timer.perf_counter()
        apply_transition(actor, subject, event, **kwargs)
        self.result.transition_seconds += timer.perf_counter() - started
        self.result.events[event] += 1

    def write(self, work: Callable[[], None]) -> None:
        """Run ``work`` (bulk writes of typed text) and commit, timed as data entry."""
        started = timer.perf_counter()
        work()
        db.session.commit()
        self.result.data_seconds += timer.perf_counter() - started

    # -- the run --

    def run(self) -> SimulationResult:
        started = timer.perf_counter()
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
        reviews = [cycles.add_review(cycle, state) for state in self.states]
        db.session.commit()
        self.result.setup_seconds = timer.perf_counter() - started

        self.fire(self.secretariat, cycle, "open_cycle")
        self.write(lambda: self.answers(reviews))
        for review in reviews:
            self.fire(self.focal_points[review.state_id], review, "submit_self_assessment")
        for review in reviews:
            self.fire(self.secretariat, review, "accept_self_assessment")
        teams = self.teams(reviews)
        for review in reviews:
            for reviewer, assignment in teams[review.id]:
                self.fire(reviewer, assignment, "accept", facts={"no_conflict": True})
        for review in reviews:
            self.fire(self.secretariat, review, "start_evaluation")
        self.write(lambda: self.evaluations(teams))
        for review in reviews:
            for reviewer, assignment in teams[review.id]:
                self.fire(reviewer, assignment, "submit_evaluation")
        self.write(lambda: self.reports(reviews))
        for review in reviews:
            lead = teams[review.id][0][0]
            self.fire(lead, review, "submit_draft_report")
        for review in reviews:
            self.fire(self.focal_points[review.state_id], review, "submit_factual_comments")
        for review in reviews:
            self.fire(self.secretariat, review, "adopt_report")
        self.write(lambda: self.responses(reviews))
        for review in reviews:
            self.fire(self.focal_points[review.state_id], review, "submit_response")
        self.write(lambda: self.assessments(reviews))
        for review in reviews:
            self.fire(self.secretariat, review, "close_review")
        self.fire(self.secretariat, cycle, "close_cycle")
        self.result.seconds = timer.perf_counter() - started
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
        self.secretariat = users[bench_data.SECRETARIAT_EMAIL]
        self.focal_points = {s.id: users[bench_data.focal_point_email(s.code)] for s in self.states}
        self.pool = [
            (s, users[bench_data.reviewer_email(s.code, number)])
            for s in self.states
            for number in (1, 2)
        ]

    # -- what people type, written in bulk --

    def answers(self, reviews: Sequence[Review]) -> None:
        answered = set(
            db.session.execute(
                select(Answer.review_id, Answer.question_id).where(
                    Answer.review_id.in_([r.id for r in reviews])
                )
            ).all()
        )
        rows = []
        for review in reviews:
            for question in self.questions:
                if (review.id, question.id) in answered:
                    continue
                level = self.rng.randint(0, 4)
                rows.append(
                    {
                        "review_id": review.id,
                        "question_id": question.id,
                        "level": level
                        if question.answer_type == AnswerType.CAPACITY_LEVEL
                        else None,
                        "choice": self.rng.choice(list(Choice))
                        if question.answer_type == AnswerType.YES_NO_PARTIAL
                        else None,
                        "narrative": self.rng.choice(bench_data.NARRATIVES).format(
                            state=self.focal_points[review.state_id].display_name,
                            level=bench_data.LEVEL_WORDS[level],
                        ),
                        "updated_by_id": self.focal_points[review.state_id].id,
                    }
                )
        db.session.execute(insert(Answer), rows)

    def teams(self, reviews: Sequence[Review]) -> dict[int, list[tuple[User, Assignment]]]:
        """The secretariat assigns three reviewers per review (`cycles.assign_reviewer`, one
        commit per review); the first is the lead. Returns review id → (reviewer, assignment)."""
        load: Counter = Counter()
        pairs: set[tuple[int, int]] = set()
        states = {s.id: s for s in self.states}
        teams: dict[int, list[tuple[User, Assignment]]] = {}
        started = timer.perf_counter()
        for review in reviews:
            chosen: list[tuple[State, User]] = []
            for _seat in range(bench_data.TEAM_SIZE):
                candidates = bench_data._candidates(
                    self.pool, chosen, states[review.state_id], load, pairs
                )
                chosen.append(self.rng.choice(candidates))
                load[chosen[-1][1].id] += 1
            pairs.update((s.id, review.state_id) for s, _u in chosen)
            teams[review.id] = [
                (
                    user,
                    cycles.assign_reviewer(review, user, self.secretariat, is_lead=seat == 0),
                )
                for seat, (_s, user) in enumerate(chosen)
            ]
            db.session.commit()
        self.result.setup_seconds += timer.perf_counter() - started
        return teams

    def evaluations(self, teams: dict[int, list[tuple[User, Assignment]]]) -> None:
        assignment_ids = [a.id for team in teams.values() for _u, a in team]
        ids = db.session.scalars(
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
                for evaluation_id in ids
                for section in self.sections
            ],
        )

    def reports(self, reviews: Sequence[Review]) -> None:
        ids = db.session.scalars(
            insert(Report).returning(Report.id, sort_by_parameter_order=True),
            [{"review_id": r.id, "executive_summary": "Summary of the review."} for r in reviews],
        ).all()
        db.session.execute(
            insert(ReportSection),
            [
                {"report_id": report_id, "section_id": section.id, "consensus_rating": 2}
                for report_id in ids
                for section in self.sections
            ],
        )
        target = clock.now().date() + timedelta(days=365)
        rows = []
        for review in reviews:
            for _ in range(self.per_report):
                category, text = self.rng.choice(self.texts)
                rows.append(
                    {
                        "review_id": review.id,
                        "section_id": self.rng.choice(self.sections).id,
                        "text": text,
                        "priority": self.rng.choice(list(Priority)),
                        "action_category": category,
                        "target_date": target,
                    }
                )
        db.session.execute(insert(Recommendation), rows)

    def _recommendation_ids(self, reviews: Sequence[Review]) -> list[tuple[int, int]]:
        return db.session.execute(
            select(Recommendation.review_id, Recommendation.id).where(
                Recommendation.review_id.in_([r.id for r in reviews])
            )
        ).all()

    def responses(self, reviews: Sequence[Review]) -> None:
        focal_points = {r.id: self.focal_points[r.state_id].id for r in reviews}
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
                for review_id, recommendation_id in self._recommendation_ids(reviews)
            ],
        )

    def assessments(self, reviews: Sequence[Review]) -> None:
        db.session.execute(
            insert(Assessment),
            [
                {
                    "recommendation_id": recommendation_id,
                    "status": self.rng.choice(list(AssessmentStatus)),
                    "author_id": self.secretariat.id,
                }
                for _review_id, recommendation_id in self._recommendation_ids(reviews)
            ],
        )


def summary_lines(result: SimulationResult, states: int) -> list[str]:
    """Lines to print after a simulation: what was done and how long it took."""
    return [
        f"Cycle {result.cycle_name!r}: {states} reviews taken from self-assessment to closed.",
        f"{result.transitions} transitions through apply_transition "
        f"({', '.join(f'{event} {count}' for event, count in sorted(result.events.items()))}).",
        f"Transitions: {result.transition_seconds:.2f} s "
        f"({1000 * result.transition_seconds / max(1, result.transitions):.2f} ms each); "
        f"setting up the cycle and teams: {result.setup_seconds:.2f} s; "
        f"writing the texts: {result.data_seconds:.2f} s.",
        f"Elapsed: {result.seconds:.2f} s.",
    ]
