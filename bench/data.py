"""The benchmark data set: a full-size regime of many states over several cycles (issue 9).

`seed_bench` (run by ``flask --app wsgi bench seed``) builds, on a migrated and seeded database
(``flask db upgrade`` and ``flask seed``: the 193 UN member states and the framework), ``cycles``
review cycles of ``states`` states each: one review per state per cycle, three peer reviewers per
review, answers to every question of the self-assessment, evaluations, a consolidated report with
about ``recommendations`` recommendations, the state's responses, progress updates, the
secretariat's assessments, publication consent, and the `TransitionLog` rows such a history leaves
(replaying a subject's log from its initial status gives its status, as the transition service
would have written it). The past cycles are closed with every review closed; the latest cycle is
open, its reviews spread over every phase (most in follow-up) so that every page has something.

Rows are written with bulk inserts (`sqlalchemy.insert` with lists of dicts), not through the
transition service: this is a data generator, and its output is what the service would have left
(tests/test_bench_data.py replays the log and checks the guards' facts). Dates are counted back
from `app.services.clock.now` in the cycle's time zone; the content (states chosen, teams, texts,
ratings) depends only on ``seed``.

Accounts (password `PASSWORD`): `SECRETARIAT_EMAIL`; a focal point ``fp.<iso3>@bench.test`` and two
peer reviewers ``reviewer1.<iso3>@bench.test`` / ``reviewer2.<iso3>@bench.test`` per state. Every
account shares one password hash computed once. `bench_accounts` names the accounts and review a
benchmark should use. Recommendation texts are real UPR recommendations
(``app/data/bench/upr-recommendations.tsv``, see ``SOURCE.md`` beside it).
"""

from __future__ import annotations

import random
import time as timer
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, insert, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import (
    Addressee,
    Answer,
    AnswerType,
    Assessment,
    AssessmentStatus,
    Assignment,
    Choice,
    ConsentLevel,
    Cycle,
    Evaluation,
    EvaluationSection,
    FactualComment,
    Framework,
    FrameworkSection,
    Priority,
    ProgressStatus,
    ProgressUpdate,
    ProposedRecommendation,
    PublicationConsent,
    Question,
    Recommendation,
    Report,
    ReportSection,
    Response,
    ResponsePosition,
    Review,
    ReviewDeadline,
    Role,
    SectionGaps,
    State,
    TransitionLog,
    User,
    current,
)
from app.services import clock, reference
from app.services.cycles import stage_deadlines
from workflows import AssignmentStatus, CycleStatus, ReviewStatus

BENCH_DIR = reference.DATA_DIR / "bench"
DOMAIN = "bench.test"
SECRETARIAT_EMAIL = f"bench.secretariat@{DOMAIN}"
PASSWORD = "bench-password"  # noqa: S105 - the benchmark's published password, never production
TIME_ZONE = "Europe/Zurich"
TEAM_SIZE = 3
#: Days between the start of two cycles.
CYCLE_SPACING = 730
#: The latest cycle started this many days before today (its reviews are late in the cycle).
LATEST_STARTED_DAYS_AGO = 420

R = ReviewStatus
A = AssignmentStatus
#: How far along the workflow each status is.
ORDER = [
    R.SELF_ASSESSMENT,
    R.SCREENING,
    R.PEER_ASSIGNMENT,
    R.EVALUATION,
    R.FACTUAL_CHECK,
    R.RESPONSE,
    R.FOLLOW_UP,
    R.ENHANCED_FOLLOW_UP,
    R.CLOSED,
]
#: Statuses of the latest cycle's reviews, in turn (the first state's review is in follow-up).
LATEST_MIX = [
    R.FOLLOW_UP,
    R.RESPONSE,
    R.EVALUATION,
    R.FOLLOW_UP,
    R.FACTUAL_CHECK,
    R.PEER_ASSIGNMENT,
    R.FOLLOW_UP,
    R.SCREENING,
    R.ENHANCED_FOLLOW_UP,
    R.SELF_ASSESSMENT,
    R.EVALUATION,
    R.CLOSED,
]
#: Latest assessments that leave a recommendation to carry into the next review (None: none).
CARRIED = (AssessmentStatus.NOT_IMPLEMENTED, AssessmentStatus.PARTIALLY_IMPLEMENTED, None)
#: When each step happens, in days after the cycle's start (a review adds 0–4 days of its own).
DAY = {
    "open_cycle": 0,
    "answers": 60,
    "submit_self_assessment": 70,
    "accept_self_assessment": 80,
    "invite": 82,
    "accept": 86,
    "start_evaluation": 90,
    "evaluation_saved": 150,
    "submit_evaluation": 160,
    "submit_draft_report": 175,
    "submit_factual_comments": 190,
    "adopt_report": 205,
    "response_saved": 240,
    "submit_response": 260,
    "progress": 300,
    "assessment": 380,
    "escalate": 385,
    "close_review": 395,
    "close_cycle": 640,
}


class BenchRefused(RuntimeError):
    """The benchmark data cannot be built here; the message says why and what to do."""


def refuse_unless_allowed(what: str, *, states: int, recommendations: int) -> None:
    """The checks `bench seed` and `bench simulate` share: not under the production config
    (``DEMO_ALLOWED`` off), 3–193 states, 1–200 recommendations per report.

    Raises:
        BenchRefused: naming the rule broken (``what`` names the command's product).
    """
    if not current_app.config.get("DEMO_ALLOWED"):
        raise BenchRefused(f"{what} is not available under the production config.")
    if not 3 <= states <= 193:
        raise BenchRefused("--states must be between 3 and 193.")
    if not 1 <= recommendations <= 200:
        raise BenchRefused("--recommendations must be between 1 and 200.")


@dataclass
class SeedResult:
    """What `seed_bench` wrote: rows per table name, and the seconds it took."""

    rows: Counter = field(default_factory=Counter)
    seconds: float = 0.0


# --- texts ---------------------------------------------------------------------------------------


def upr_recommendations() -> list[tuple[int, str]]:
    """(action category 1–5, text) of each real UPR recommendation in the bench data file."""
    rows = []
    for line in (BENCH_DIR / "upr-recommendations.tsv").read_text(encoding="utf-8").splitlines():
        category, _tab, text = line.partition("\t")
        if text:
            rows.append((int(category), text))
    return rows


LEVEL_WORDS = ["absent", "initial", "developing", "established", "advanced"]
INSTITUTIONS = [
    "Ministry of Justice",
    "Ministry of Foreign Affairs",
    "Ministry of the Interior",
    "National Human Rights Institution",
    "Office of the Prime Minister",
    "National Police",
    "Ministry of Education",
    "Office of the Ombudsperson",
    "National Committee for the Prevention of Genocide",
    "Ministry of Social Affairs",
]
NARRATIVES = [
    "{state} reports that the responsible institutions meet every quarter and publish minutes; "
    "the capacity is {level}, with gaps outside the capital.",
    "A national action plan adopted three years ago covers this area. Implementation in {state} "
    "is {level}: budgets are set, monitoring is irregular.",
    "The focal point of {state} notes that legislation exists but its application is {level}; "
    "training of officials started last year with UN support.",
    "Civil-society organisations in {state} take part through a standing consultation forum; "
    "their access to information remains {level}.",
    "Data are collected by the statistics office and shared with the early-warning unit; the "
    "analysis capacity of {state} is {level}.",
]
FINDINGS = [
    "The team found that {section} rests on a sound legal basis, but that its institutions lack "
    "staff and a budget of their own.",
    "Interviews with officials and civil society confirmed the self-assessment for {section}; "
    "coordination between ministries is the main weakness.",
    "Evidence for {section} is thin: the documents provided describe plans rather than results.",
]
PRACTICES = [
    "A joint training programme for police and judges, run with the national human rights "
    "institution.",
    "Public hearings before each reform, with minutes published online.",
    "",
]
PROGRESS = [
    "A working group was set up and met twice; terms of reference adopted.",
    "Draft legislation sent to parliament; first reading scheduled.",
    "Training of 120 officials completed in four regions.",
    "Budget line created in the annual finance law.",
    "No action yet: awaiting the appointment of the responsible minister.",
]


# --- the entry point -----------------------------------------------------------------------------


def seed_bench(
    states: int = 193, cycles: int = 3, recommendations: int = 40, seed: int = 0
) -> SeedResult:
    """Build the benchmark data set (see the module docstring) and commit.

    ``states``: 3–193 states per cycle (drawn with ``seed``); ``cycles``: 1–10 cycles, the
    latest open; ``recommendations``: recommendations per report (1–200, ±10 % per review).

    Returns the rows written per table and the time taken in seconds.
    Raises:
        BenchRefused: under the production config; before ``flask seed``; when bench data is
            already there (the secretariat account `SECRETARIAT_EMAIL` exists); arguments out
            of range.
    """
    started = timer.perf_counter()
    refuse_unless_allowed("Benchmark data", states=states, recommendations=recommendations)
    if not 1 <= cycles <= 10:
        raise BenchRefused("--cycles must be between 1 and 10.")
    framework = reference.latest_framework()
    all_states = db.session.scalars(select(State).order_by(State.code)).all()
    if framework is None or len(all_states) < states:
        raise BenchRefused("Run `flask --app wsgi seed` first (states and framework).")
    if db.session.scalar(select(User.id).where(User.email == SECRETARIAT_EMAIL)) is not None:
        raise BenchRefused(
            "Benchmark data is already in this database: use a fresh database "
            "(flask db upgrade && flask seed) to build it again."
        )
    builder = _Builder(framework, all_states, states, cycles, recommendations, seed)
    builder.build()
    current.refresh(db.session)  # the current rows of the histories written in bulk above
    db.session.commit()
    builder.result.seconds = timer.perf_counter() - started
    return builder.result


def bench_accounts() -> dict[str, Any]:
    """The accounts and objects a benchmark should use, from the data in the database.

    Returns ``{"password", "secretariat", "focal_point", "reviewer", "cycle_id", "review_id",
    "assignment_id"}``: the e-mails of the secretariat, of the focal point of the latest cycle's
    first review in follow-up (its state has a review in every cycle) and of that review's lead
    reviewer; the latest cycle's id, that review's id and the lead's assignment id. Values are None
    when there is no bench data.
    """
    found: dict[str, Any] = {
        "password": PASSWORD,
        "secretariat": None,
        "focal_point": None,
        "reviewer": None,
        "cycle_id": None,
        "review_id": None,
        "assignment_id": None,
    }
    secretariat = db.session.scalar(select(User.email).where(User.email == SECRETARIAT_EMAIL))
    if secretariat is None:
        return found
    found["secretariat"] = secretariat
    cycle_id = db.session.scalar(
        select(Cycle.id)
        .where(Cycle.name.like("Bench %"))
        .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
        .limit(1)
    )
    row = db.session.execute(
        select(Review.id, State.code, Assignment.id, User.email)
        .join(State, State.id == Review.state_id)
        .join(Assignment, (Assignment.review_id == Review.id) & Assignment.is_lead.is_(True))
        .join(User, User.id == Assignment.reviewer_id)
        .where(Review.cycle_id == cycle_id, Review.status == R.FOLLOW_UP)
        .order_by(Review.id)
        .limit(1)
    ).first()
    found["cycle_id"] = cycle_id
    if row is not None:
        review_id, code, assignment_id, reviewer = row
        found.update(
            focal_point=focal_point_email(code),
            reviewer=reviewer,
            review_id=review_id,
            assignment_id=assignment_id,
        )
    return found


def focal_point_email(code: str) -> str:
    return f"fp.{code.lower()}@{DOMAIN}"


def reviewer_email(code: str, number: int) -> str:
    return f"reviewer{number}.{code.lower()}@{DOMAIN}"


# --- building ------------------------------------------------------------------------------------


@dataclass
class _ReviewPlan:
    """One review to write: its state, cycle, target status, and the ids written so far."""

    cycle: Cycle
    state: State
    target: ReviewStatus
    jitter: int
    id: int = 0
    team: list[tuple[User, bool]] = field(default_factory=list)
    assignment_ids: list[int] = field(default_factory=list)
    recommendation_ids: list[int] = field(default_factory=list)
    carried: int = 0

    def reaches(self, status: ReviewStatus) -> bool:
        return ORDER.index(self.target) >= ORDER.index(status)


class _Builder:
    def __init__(
        self,
        framework: Framework,
        all_states: Sequence[State],
        states: int,
        cycles: int,
        recommendations: int,
        seed: int,
    ):
        self.rng = random.Random(seed)
        self.framework = framework
        self.states = sorted(self.rng.sample(list(all_states), states), key=lambda s: s.name)
        self.cycle_count = cycles
        self.per_report = recommendations
        self.result = SeedResult()
        self.zone = ZoneInfo(TIME_ZONE)
        self.today = clock.now().astimezone(self.zone).date()
        self.sections = db.session.scalars(
            select(FrameworkSection)
            .where(FrameworkSection.framework_id == framework.id)
            .order_by(FrameworkSection.number)
        ).all()
        self.questions = db.session.scalars(
            select(Question)
            .join(FrameworkSection)
            .where(FrameworkSection.framework_id == framework.id)
            .order_by(FrameworkSection.number, Question.position)
        ).all()
        self.texts = upr_recommendations()
        self.logs: list[dict[str, Any]] = []
        self.reviewers: dict[int, list[User]] = {}
        self.focal_points: dict[int, User] = {}
        self.recommendation_rows: dict[int, dict[str, Any]] = {}
        self.latest_assessment: dict[int, AssessmentStatus] = {}

    # -- helpers --

    def at(self, day: date, hour: int = 10) -> datetime:
        """``hour`` o'clock on ``day`` in the cycle's zone, as an aware UTC instant."""
        return datetime.combine(day, time(hour), self.zone).astimezone(UTC)

    def when(self, plan: _ReviewPlan, step: str, hour: int = 10) -> datetime:
        return self.at(plan.cycle.starts_on + timedelta(days=DAY[step] + plan.jitter), hour)

    def insert(self, model: type, rows: list[dict[str, Any]], ids: bool = False) -> list[int]:
        """Bulk-insert ``rows`` into ``model``'s table; return their ids in order if ``ids``."""
        self.result.rows[model.__tablename__] += len(rows)
        if not rows:
            return []
        if not ids:
            db.session.execute(insert(model), rows)
            return []
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(db.session.scalars(statement, rows))

    def log(
        self,
        subject: str,
        subject_id: int,
        event: str,
        before: str,
        after: str,
        actor: User | None,
        at: datetime,
        reason: str = "",
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        self.logs.append(
            {
                "subject_type": subject,
                "subject_id": subject_id,
                "event": event,
                "from_state": str(before),
                "to_state": str(after),
                "actor_id": actor.id if actor is not None else None,
                "created_at": at,
                "reason": reason,
                "payload": dict(payload or {}),
            }
        )

    # -- the whole data set --

    def build(self) -> None:
        self.accounts()
        plans = self.cycles()
        self.team_draw(plans)
        self.self_assessments(plans)
        self.assignments(plans)
        previous: dict[int, _ReviewPlan] = {}  # state id → its last review with a report
        for index in range(self.cycle_count):
            cycle_plans = plans[index * len(self.states) : (index + 1) * len(self.states)]
            self.carry_over(cycle_plans, previous)
            self.evaluations_and_reports(cycle_plans)
            self.follow_up(cycle_plans)
            previous.update({p.state.id: p for p in cycle_plans if p.reaches(R.RESPONSE)})
        self.review_logs(plans)
        self.logs.sort(key=lambda row: row["created_at"])
        self.insert(TransitionLog, self.logs)

    def accounts(self) -> None:
        # one hash for every bench account: hashing ~600 passwords would take minutes
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        shared = generate_password_hash(PASSWORD, method=method)
        created = self.at(self.today - timedelta(days=CYCLE_SPACING * self.cycle_count), 9)
        rows = [
            {
                "email": SECRETARIAT_EMAIL,
                "display_name": "Bench Secretariat",
                "role": Role.SECRETARIAT,
                "state_id": None,
            }
        ]
        for state in self.states:
            rows.append(
                {
                    "email": focal_point_email(state.code),
                    "display_name": f"Focal point of {state.name}",
                    "role": Role.FOCAL_POINT,
                    "state_id": state.id,
                }
            )
            for number in (1, 2):
                rows.append(
                    {
                        "email": reviewer_email(state.code, number),
                        "display_name": f"Reviewer {number} of {state.name}",
                        "role": Role.REVIEWER,
                        "state_id": state.id,
                    }
                )
        for row in rows:
            row.update(password_hash=shared, active=True, created_at=created)
        ids = self.insert(User, rows, ids=True)
        users = db.session.scalars(select(User).where(User.id.in_(ids))).all()
        by_email = {u.email: u for u in users}
        self.secretariat = by_email[SECRETARIAT_EMAIL]
        for state in self.states:
            self.focal_points[state.id] = by_email[focal_point_email(state.code)]
            self.reviewers[state.id] = [
                by_email[reviewer_email(state.code, number)] for number in (1, 2)
            ]

    def cycles(self) -> list[_ReviewPlan]:
        """The cycles and their reviews (with stage deadlines); plans of every review."""
        latest_start = self.today - timedelta(days=LATEST_STARTED_DAYS_AGO)
        plans: list[_ReviewPlan] = []
        for index in range(self.cycle_count):
            starts_on = latest_start - timedelta(
                days=CYCLE_SPACING * (self.cycle_count - 1 - index)
            )
            latest = index == self.cycle_count - 1
            cycle = Cycle(
                name=f"Bench {starts_on.year} cycle",
                framework_id=self.framework.id,
                time_zone=TIME_ZONE,
                starts_on=starts_on,
                status=CycleStatus.OPEN if latest else CycleStatus.CLOSED,
                team_size=TEAM_SIZE,
                created_at=self.at(starts_on - timedelta(days=30), 9),
            )
            db.session.add(cycle)
            db.session.flush()
            self.result.rows["cycle"] += 1
            opened = self.at(starts_on, 9)
            self.log("cycle", cycle.id, "open_cycle", "planning", "open", self.secretariat, opened)
            if not latest:
                closed = self.at(starts_on + timedelta(days=DAY["close_cycle"]), 11)
                self.log(
                    "cycle", cycle.id, "close_cycle", "open", "closed", self.secretariat, closed
                )
            cycle_plans = [
                _ReviewPlan(
                    cycle,
                    state,
                    LATEST_MIX[number % len(LATEST_MIX)] if latest else R.CLOSED,
                    self.rng.randint(0, 4),
                )
                for number, state in enumerate(self.states)
            ]
            deadlines = stage_deadlines(cycle)
            ids = self.insert(
                Review,
                [
                    {
                        "cycle_id": cycle.id,
                        "state_id": plan.state.id,
                        "status": plan.target,
                        "status_changed_at": opened,
                        "created_at": cycle.created_at,
                    }
                    for plan in cycle_plans
                ],
                ids=True,
            )
            for plan, review_id in zip(cycle_plans, ids, strict=True):
                plan.id = review_id
            self.insert(
                ReviewDeadline,
                [
                    {"review_id": plan.id, "stage": stage, "due_at": due_at}
                    for plan in cycle_plans
                    for stage, due_at in deadlines.items()
                ],
            )
            plans.extend(cycle_plans)
        return plans

    def team_draw(self, plans: list[_ReviewPlan]) -> None:
        """Three reviewers per review that reaches peer assignment, roughly by the draw rules of
        DESIGN §6: never the own state; members from distinct regional groups; at most two
        reviews per reviewer per cycle; no two states reviewing each other in one cycle. A rule
        that leaves too few candidates is dropped, in reverse order, for that seat."""
        by_cycle: dict[int, list[_ReviewPlan]] = defaultdict(list)
        for plan in plans:
            by_cycle[plan.cycle.id].append(plan)
        pool = [(state, user) for state in self.states for user in self.reviewers[state.id]]
        for cycle_plans in by_cycle.values():
            load: Counter = Counter()
            pairs: set[tuple[int, int]] = set()  # (reviewer's state, reviewed state)
            for plan in cycle_plans:
                if not plan.reaches(R.PEER_ASSIGNMENT):
                    continue
                team: list[tuple[State, User]] = []
                for _seat in range(TEAM_SIZE):
                    state, user = self.rng.choice(_candidates(pool, team, plan.state, load, pairs))
                    team.append((state, user))
                    load[user.id] += 1
                for state, _user in team:
                    pairs.add((state.id, plan.state.id))
                plan.team = [(user, seat == 0) for seat, (_s, user) in enumerate(team)]

    # -- self-assessment --

    def self_assessments(self, plans: list[_ReviewPlan]) -> None:
        answers, gaps = [], []
        for plan in plans:
            fp = self.focal_points[plan.state.id]
            saved = self.when(plan, "answers", 17)
            questions = self.questions
            if not plan.reaches(R.SCREENING):
                questions = questions[: len(questions) // 2]
            for question in questions:
                level = self.rng.randint(0, 4)
                row = {
                    "review_id": plan.id,
                    "question_id": question.id,
                    "level": None,
                    "choice": None,
                    "narrative": self.rng.choice(NARRATIVES).format(
                        state=plan.state.name, level=LEVEL_WORDS[level]
                    ),
                    "evidence": "Annual report of the responsible ministry; national action plan.",
                    "prefilled": False,
                    "updated_at": saved,
                    "updated_by_id": fp.id,
                }
                if question.answer_type == AnswerType.CAPACITY_LEVEL:
                    row["level"] = level
                elif question.answer_type == AnswerType.YES_NO_PARTIAL:
                    row["choice"] = self.rng.choice(list(Choice))
                answers.append(row)
            for section in self.sections:
                gaps.append(
                    {
                        "review_id": plan.id,
                        "section_id": section.id,
                        "capacity_gaps": f"Staff and budget for {section.title.lower()}.",
                        "assistance_sought": self.rng.sample(
                            ["security_sector_reform", "rule_of_law", "civil_society"],
                            self.rng.randint(0, 2),
                        ),
                        "assistance_details": "",
                        "updated_at": saved,
                    }
                )
        self.insert(Answer, answers)
        self.insert(SectionGaps, gaps)

    # -- teams, evaluations, reports --

    def assignments(self, plans: list[_ReviewPlan]) -> None:
        rows, statuses = [], []
        for plan in plans:
            for seat, (user, lead) in enumerate(plan.team):
                if plan.reaches(R.FACTUAL_CHECK):
                    status = A.SUBMITTED
                elif plan.target == R.EVALUATION:
                    status = A.SUBMITTED if seat == 1 else A.ACCEPTED
                else:  # peer assignment: the last seat has not answered yet
                    status = A.INVITED if seat == TEAM_SIZE - 1 else A.ACCEPTED
                accepted = self.when(plan, "accept", 14) if status != A.INVITED else None
                rows.append(
                    {
                        "review_id": plan.id,
                        "reviewer_id": user.id,
                        "is_lead": lead,
                        "status": status,
                        "no_conflict_declared_at": accepted,
                        "created_at": self.when(plan, "invite", 11),
                        "created_by_id": self.secretariat.id,
                        "justification": "",
                    }
                )
                statuses.append((plan, user, lead, status))
        ids = self.insert(Assignment, rows, ids=True)
        for assignment_id, (plan, user, lead, status) in zip(ids, statuses, strict=True):
            plan.assignment_ids.append(assignment_id)
            self.log(
                "assignment",
                assignment_id,
                "invite",
                "",
                A.INVITED,
                self.secretariat,
                self.when(plan, "invite", 11),
                payload={"review_id": plan.id, "is_lead": lead},
            )
            if status in (A.ACCEPTED, A.SUBMITTED):
                self.log(
                    "assignment",
                    assignment_id,
                    "accept",
                    A.INVITED,
                    A.ACCEPTED,
                    user,
                    self.when(plan, "accept", 14),
                )
            if status == A.SUBMITTED:
                self.log(
                    "assignment",
                    assignment_id,
                    "submit_evaluation",
                    A.ACCEPTED,
                    A.SUBMITTED,
                    user,
                    self.when(plan, "submit_evaluation", 17),
                )
        self.assignment_status = {
            assignment_id: status
            for assignment_id, (_p, _u, _l, status) in zip(ids, statuses, strict=True)
        }

    def evaluations_and_reports(self, plans: list[_ReviewPlan]) -> None:
        evaluated = [plan for plan in plans if plan.reaches(R.EVALUATION)]
        rows, owners = [], []
        for plan in evaluated:
            for assignment_id in plan.assignment_ids:
                submitted = self.assignment_status[assignment_id] == A.SUBMITTED
                rows.append(
                    {
                        "assignment_id": assignment_id,
                        "summary": f"Evaluation of the self-assessment of {plan.state.name}.",
                        "submitted_at": self.when(plan, "submit_evaluation", 17)
                        if submitted
                        else None,
                        "updated_at": self.when(plan, "evaluation_saved", 18),
                    }
                )
                owners.append((plan, submitted))
        evaluation_ids = self.insert(Evaluation, rows, ids=True)
        sections, proposals, proposal_owner = [], [], []
        for evaluation_id, (plan, submitted) in zip(evaluation_ids, owners, strict=True):
            rated = self.sections if submitted else self.sections[: len(self.sections) // 2]
            for section in rated:
                sections.append(
                    {
                        "evaluation_id": evaluation_id,
                        "section_id": section.id,
                        "rating": self.rng.randint(0, 4),
                        "findings": self.rng.choice(FINDINGS).format(section=section.title),
                        "good_practices": self.rng.choice(PRACTICES),
                    }
                )
            if plan.reaches(R.FACTUAL_CHECK):
                for _ in range(self.count_for(plan) // TEAM_SIZE + 1):
                    category, text = self.rng.choice(self.texts)
                    proposals.append(
                        {
                            "evaluation_id": evaluation_id,
                            "section_id": self.rng.choice(self.sections).id,
                            "text": text,
                            "action_category": category,
                            "created_at": self.when(plan, "evaluation_saved", 18),
                        }
                    )
                    proposal_owner.append(plan)
        self.insert(EvaluationSection, sections)
        proposal_ids = self.insert(ProposedRecommendation, proposals, ids=True)
        by_plan: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for proposal_id, row, plan in zip(proposal_ids, proposals, proposal_owner, strict=True):
            by_plan[plan.id].append((proposal_id, row))

        reported = [plan for plan in plans if plan.reaches(R.FACTUAL_CHECK)]
        report_ids = self.insert(
            Report,
            [
                {
                    "review_id": plan.id,
                    "executive_summary": (
                        f"{plan.state.name} has an established framework for the prevention of "
                        "atrocity crimes; its early-warning and accountability capacities are "
                        "still developing. The team makes its recommendations below."
                    ),
                    "submitted_at": self.when(plan, "submit_draft_report", 16),
                    "adopted_at": self.when(plan, "adopt_report", 11)
                    if plan.reaches(R.RESPONSE)
                    else None,
                    "updated_at": self.when(plan, "submit_draft_report", 9),
                }
                for plan in reported
            ],
            ids=True,
        )
        report_sections, comments, recommendations = [], [], []
        for plan, report_id in zip(reported, report_ids, strict=True):
            for section in self.sections:
                report_sections.append(
                    {
                        "report_id": report_id,
                        "section_id": section.id,
                        "consensus_rating": self.rng.randint(0, 4),
                        "findings": self.rng.choice(FINDINGS).format(section=section.title),
                        "good_practices": self.rng.choice(PRACTICES),
                    }
                )
            if plan.reaches(R.RESPONSE):
                comments.append(
                    {
                        "report_id": report_id,
                        "section_id": self.rng.choice(self.sections).id,
                        "author_id": self.focal_points[plan.state.id].id,
                        "body": "The national action plan was adopted in March, not in June.",
                        "created_at": self.when(plan, "submit_factual_comments", 15),
                    }
                )
            drafted = self.when(plan, "submit_draft_report", 9)
            fresh = max(1, self.count_for(plan) - plan.carried)
            for proposal_id, proposal in by_plan[plan.id][:fresh]:
                recommendations.append(
                    {
                        "review_id": plan.id,
                        "section_id": proposal["section_id"],
                        "text": proposal["text"],
                        "priority": self.rng.choice(list(Priority)),
                        "action_category": proposal["action_category"],
                        "addressee": Addressee.INTERNATIONAL_PARTNERS
                        if self.rng.random() < 0.1
                        else Addressee.STATE,
                        "target_date": drafted.date()
                        + timedelta(days=30 * self.rng.choice([6, 12, 18, 24])),
                        "proposal_id": proposal_id,
                        "carried_from_id": None,
                        "created_at": drafted,
                    }
                )
        self.insert(ReportSection, report_sections)
        self.insert(FactualComment, comments)
        ids = self.insert(Recommendation, recommendations, ids=True)
        plan_by_id = {plan.id: plan for plan in plans}
        for recommendation_id, row in zip(ids, recommendations, strict=True):
            plan_by_id[row["review_id"]].recommendation_ids.append(recommendation_id)
        self.recommendation_rows.update(zip(ids, recommendations, strict=True))

    def carry_over(self, plans: list[_ReviewPlan], previous: Mapping[int, _ReviewPlan]) -> None:
        """What ``open_cycle`` carries into each review of a cycle (`app.services.carry_over`):
        the recommendations of the state's previous review whose latest assessment is *not* or
        *partially implemented*, or missing, copied as "recommended previously"."""
        rows = []
        for plan in plans:
            before = previous.get(plan.state.id)
            if before is None:
                continue
            for original in before.recommendation_ids:
                if self.latest_assessment.get(original) not in CARRIED:
                    continue
                row = self.recommendation_rows[original]
                rows.append(
                    row
                    | {
                        "review_id": plan.id,
                        "target_date": None,
                        "proposal_id": None,
                        "carried_from_id": original,
                        "created_at": self.at(plan.cycle.starts_on, 9),
                    }
                )
        ids = self.insert(Recommendation, rows, ids=True)
        by_id = {plan.id: plan for plan in plans}
        for recommendation_id, row in zip(ids, rows, strict=True):
            by_id[row["review_id"]].recommendation_ids.append(recommendation_id)
            by_id[row["review_id"]].carried += 1
        self.recommendation_rows.update(zip(ids, rows, strict=True))

    def count_for(self, plan: _ReviewPlan) -> int:
        """The number of recommendations of ``plan``'s report: the set number ±10 %, fixed per
        review (drawn from the review's id, so repeated calls agree)."""
        spread = max(1, self.per_report // 10)
        return max(1, self.per_report + (plan.id * 7919) % (2 * spread + 1) - spread)

    # -- response and follow-up --

    def follow_up(self, plans: list[_ReviewPlan]) -> None:
        responses, progress, assessments, consents = [], [], [], []
        levels = [ConsentLevel.FULL, ConsentLevel.SUMMARY, ConsentLevel.NONE]
        for plan in plans:
            if not plan.reaches(R.RESPONSE):
                continue
            fp = self.focal_points[plan.state.id]
            consents.append(
                {
                    "review_id": plan.id,
                    "level": levels[len(consents) % len(levels)],
                    "author_id": fp.id,
                    "created_at": self.when(plan, "response_saved", 12),
                }
            )
            ids = plan.recommendation_ids
            answered = ids if plan.reaches(R.FOLLOW_UP) else ids[: len(ids) // 2]
            for recommendation_id in answered:
                supported = self.rng.random() < 0.75
                target = self.recommendation_rows[recommendation_id]["target_date"] or (
                    self.when(plan, "submit_response").date() + timedelta(days=365)
                )
                responses.append(
                    {
                        "recommendation_id": recommendation_id,
                        "position": ResponsePosition.SUPPORTED
                        if supported
                        else ResponsePosition.NOTED,
                        "explanation": "The government agrees and has included this in the "
                        "national action plan."
                        if supported
                        else "The matter is under consideration by the national parliament.",
                        "planned_action": "Draft and adopt the necessary regulations."
                        if supported
                        else "",
                        "responsible_institution": self.rng.choice(INSTITUTIONS)
                        if supported
                        else "",
                        "target_date": target if supported else None,
                        "updated_at": self.when(plan, "response_saved", 12),
                        "updated_by_id": fp.id,
                    }
                )
            if not plan.reaches(R.FOLLOW_UP):
                continue
            closed = plan.reaches(R.CLOSED)
            for number, recommendation_id in enumerate(ids):
                for step in range(self.rng.randint(1, 3)):
                    status = [ProgressStatus.NOT_STARTED, ProgressStatus.IN_PROGRESS][min(step, 1)]
                    if step == 2:
                        status = ProgressStatus.COMPLETED
                    progress.append(
                        {
                            "recommendation_id": recommendation_id,
                            "status": status,
                            "narrative": self.rng.choice(PROGRESS),
                            "evidence": "",
                            "author_id": fp.id,
                            "created_at": self.when(plan, "progress", 11)
                            + timedelta(days=30 * step),
                        }
                    )
                if closed or number % 2 == 0:
                    assessed = self.rng.choice(list(AssessmentStatus))
                    self.latest_assessment[recommendation_id] = assessed
                    assessments.append(
                        {
                            "recommendation_id": recommendation_id,
                            "status": assessed,
                            "note": "Assessed on the state's progress reports and a country visit.",
                            "author_id": self.secretariat.id,
                            "created_at": self.when(plan, "assessment", 14),
                        }
                    )
        self.insert(PublicationConsent, consents)
        self.insert(Response, responses)
        self.insert(ProgressUpdate, progress)
        self.insert(Assessment, assessments)

    # -- the review's log --

    def review_logs(self, plans: list[_ReviewPlan]) -> None:
        """The Review rows' TransitionLog and their ``status_changed_at``: the events the
        transition service would have written to take each review to its status."""
        steps = [
            (R.SCREENING, "submit_self_assessment", "focal_point", 16),
            (R.PEER_ASSIGNMENT, "accept_self_assessment", "secretariat", 10),
            (R.EVALUATION, "start_evaluation", "secretariat", 10),
            (R.FACTUAL_CHECK, "submit_draft_report", "lead", 16),
            (R.RESPONSE, "submit_factual_comments", "focal_point", 15),
            (R.RESPONSE, "adopt_report", "secretariat", 11),
            (R.FOLLOW_UP, "submit_response", "focal_point", 15),
            (R.ENHANCED_FOLLOW_UP, "escalate", "secretariat", 11),
            (R.CLOSED, "close_review", "secretariat", 11),
        ]
        changed: list[dict[str, Any]] = []
        for plan in plans:
            status = R.SELF_ASSESSMENT
            changed_at = self.at(plan.cycle.starts_on, 9)
            actors = {
                "focal_point": self.focal_points[plan.state.id],
                "secretariat": self.secretariat,
                "lead": next((user for user, lead in plan.team if lead), None),
            }
            for needed, event, actor, hour in steps:
                if not plan.reaches(needed):
                    break
                if event == "escalate" and plan.target != R.ENHANCED_FOLLOW_UP:
                    continue
                at = self.when(plan, event, hour)
                after = status if event == "submit_factual_comments" else needed
                reason = (
                    "Little progress reported a year after the response."
                    if event == "escalate"
                    else ""
                )
                self.log("review", plan.id, event, status, after, actors[actor], at, reason)
                if after != status:
                    changed_at = at
                status = after
            changed.append({"id": plan.id, "status_changed_at": changed_at})
        db.session.execute(
            Review.__table__.update().where(Review.__table__.c.id == bindparam("id_")),
            [{"id_": row["id"], "status_changed_at": row["status_changed_at"]} for row in changed],
        )


def _candidates(
    pool: Sequence[tuple[State, User]],
    team: Sequence[tuple[State, User]],
    reviewed: State,
    load: Counter,
    pairs: set[tuple[int, int]],
) -> list[tuple[State, User]]:
    """The reviewers of ``pool`` that may take the next seat of ``team`` on the review of
    ``reviewed``: never one of the state itself or one already on the team; then, as long as some
    remain, from a regional group not yet on the team, with fewer than two reviews in the cycle
    (``load``), whose state is not reviewed by ``reviewed``'s reviewers (``pairs``)."""
    groups = {state.regional_group for state, _member in team}
    members = {member.id for _state, member in team}
    candidates = [(s, u) for s, u in pool if s.id != reviewed.id and u.id not in members]
    rules = [
        lambda s, u: s.regional_group not in groups,
        lambda s, u: load[u.id] < 2,
        lambda s, u: (reviewed.id, s.id) not in pairs,
    ]
    for keep in range(len(rules), 0, -1):
        allowed = [(s, u) for s, u in candidates if all(rule(s, u) for rule in rules[:keep])]
        if allowed:
            return allowed
    return candidates


def summary_lines(result: SeedResult) -> list[str]:
    """Lines to print after seeding: rows per table, the time, and the accounts to use."""
    lines = [f"{table}: {count}" for table, count in sorted(result.rows.items())]
    lines.append(f"Built in {result.seconds:.1f} s.")
    accounts = bench_accounts()
    lines += [
        f"Password for every bench account: {accounts['password']}",
        f"  secretariat: {accounts['secretariat']}",
        f"  focal point: {accounts['focal_point']} (review {accounts['review_id']})",
        f"  lead reviewer: {accounts['reviewer']} (assignment {accounts['assignment_id']})",
        f"  latest cycle: {accounts['cycle_id']}",
    ]
    return lines
