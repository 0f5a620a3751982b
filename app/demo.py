"""The demo data set: one open review cycle with eight real states spread over every phase.

`load_demo` (run by ``flask --app wsgi demo``) creates the cycle "2027 review cycle", a
secretariat account, a focal point and a peer reviewer for each of the eight states (plus the
reserve reviewers of ``pool`` in ``cycle.yaml``, on no team yet, for the draw by lot), and moves
every review through the real workflow with `app.services.transitions.apply_transition`, so that
every step has its TransitionLog row and every guard is honoured. The texts (answers, evaluations,
reports, recommendations, responses, follow-up) are data files under ``app/data/demo/``:
``cycle.yaml`` names the cycle, the people, the review teams and when each step happened;
``<iso3>.yaml`` holds what was written for one state's review.

History is dated: each step runs with the application clock set to the day it happened (counted
back from today in the cycle's time zone), so phase durations, histories and deadlines look as
they would in a real cycle. Running the loader again changes nothing: an existing cycle of the same
name means the demo is already there, and only the account list is printed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import yaml
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    ROLE_LABELS,
    Addressee,
    Answer,
    Assessment,
    AssessmentStatus,
    Assignment,
    AssistanceArea,
    Choice,
    ConsentLevel,
    Cycle,
    Evaluation,
    EvaluationSection,
    FactualComment,
    Framework,
    FrameworkSection,
    OfferKind,
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
    Role,
    SectionGaps,
    StakeholderKind,
    State,
    User,
    current,
)
from app.services import assistance, clock, cycles, reference, stakeholders
from app.services.transitions import apply_transition
from workflows import REVIEW, AssignmentStatus, ReviewStatus

DEMO_DIR = reference.DATA_DIR / "demo"
PASSWORD = "demo-password"  # noqa: S105 - the demo's published password, never production
URL = "http://127.0.0.1:5000"

R = ReviewStatus
#: How far along the workflow each status is; a review is played up to its planned status.
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


class DemoUnavailable(click.ClickException, RuntimeError):
    """The demo cannot be loaded (e.g. reference data missing). A RuntimeError that the CLI prints
    as a plain message instead of a traceback."""


# --- reading the data files ----------------------------------------------------------------------


def read_plan(directory: Path = DEMO_DIR) -> dict[str, Any]:
    """Read ``cycle.yaml`` and each state's ``<iso3>.yaml`` into one mapping.

    Returns ``cycle.yaml``'s mapping, with each entry of ``states`` given a ``content`` key.
    Raises:
        DemoUnavailable: a data file is missing, or a team names a state outside the demo.
    """
    try:
        plan = yaml.safe_load((directory / "cycle.yaml").read_text(encoding="utf-8"))
        for entry in plan["states"]:
            path = directory / f"{entry['code'].lower()}.yaml"
            entry["content"] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        plan["pillar_two"] = yaml.safe_load(
            (directory / "pillar_two.yaml").read_text(encoding="utf-8")
        )
    except FileNotFoundError as missing:
        raise DemoUnavailable(f"Demo data file missing: {missing.filename}") from None
    codes = {entry["code"] for entry in plan["states"]}
    outside = {entry["code"] for entry in plan.get("pool", [])} - codes
    if outside:
        raise DemoUnavailable(
            f"Demo data cycle.yaml: the pool names reviewers of states outside the demo: "
            f"{', '.join(sorted(outside))}"
        )
    for entry in plan["states"]:
        unknown = {m["reviewer"] for m in entry.get("team", [])} - codes
        if unknown:
            raise DemoUnavailable(
                f"Demo data cycle.yaml: the team of {entry['code']} names reviewers of states "
                f"outside the demo: {', '.join(sorted(unknown))}"
            )
    return plan


def accounts_of(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every demo account, in display order: e-mail, name, role and state code (None)."""
    accounts = [
        {
            "email": plan["secretariat"]["email"],
            "name": plan["secretariat"]["name"],
            "role": Role.SECRETARIAT,
            "state": None,
        }
    ]
    for entry in plan["states"]:
        code = entry["code"]
        accounts.append(
            {
                "email": f"fp.{code.lower()}@demo.test",
                "name": entry["focal_point"],
                "role": Role.FOCAL_POINT,
                "state": code,
            }
        )
    for entry in plan["states"]:
        code = entry["code"]
        accounts.append(
            {
                "email": f"reviewer.{code.lower()}@demo.test",
                "name": entry["reviewer"],
                "role": Role.REVIEWER,
                "state": code,
            }
        )
    for entry in plan.get("pool", []):
        accounts.append(
            {
                "email": f"reserve.{entry['code'].lower()}@demo.test",
                "name": entry["reviewer"],
                "role": Role.REVIEWER,
                "state": entry["code"],
            }
        )
    pillar_two = plan.get("pillar_two") or {}
    for role, key in ((Role.PARTNER, "partners"), (Role.STAKEHOLDER, "stakeholders")):
        for entry in pillar_two.get(key, []):
            accounts.append(
                {
                    "email": entry["email"],
                    "name": entry["name"],
                    "role": role,
                    "state": None,
                    "organisation": entry["organisation"],
                    "kind": entry.get("kind"),
                }
            )
    return accounts


# --- the entry point -----------------------------------------------------------------------------


def load_demo(url: str = URL) -> list[str]:
    """Create the demo cycle, accounts and reviews (idempotent); return the lines to print,
    naming ``url`` as the address to sign in at.

    Precondition: ``flask --app wsgi seed`` ran (UN member states and a framework exist).
    Every workflow step goes through `apply_transition`, which commits step by step.

    Returns:
        A header line, one line per account ("  <email>  <role>  <state> ...") and a last line
        with the shared password and the address to sign in at.
    Raises:
        DemoUnavailable: states or framework are missing (run ``seed`` first), or a data file is.
    """
    plan = read_plan()
    framework = _check_seeded([entry["code"] for entry in plan["states"]])
    name = plan["cycle"]["name"]
    existing = db.session.scalar(select(Cycle).where(Cycle.name == name))
    if existing is None:
        _Builder(plan, framework).build()
        header = f'Demo cycle "{name}" created with {len(plan["states"])} reviews.'
    else:
        header = f'Demo cycle "{name}" is already there; nothing was added.'
    return [
        header,
        *_account_lines(plan),
        f"Password for every account: {PASSWORD}  —  sign in at {url}",
    ]


def _check_seeded(codes: list[str]) -> Framework:
    """The framework to use. Raises `DemoUnavailable` when ``seed`` has not run."""
    hint = "Run `flask --app wsgi seed` first."
    framework = reference.latest_framework()
    if framework is None:
        raise DemoUnavailable(f"No framework is loaded. {hint}")
    found = db.session.scalar(select(func.count(State.id)).where(State.code.in_(codes)))
    if found != len(codes):
        raise DemoUnavailable(f"The UN member states are not loaded. {hint}")
    return framework


def _account_lines(plan: Mapping[str, Any]) -> list[str]:
    """One line per account: e-mail, role, state, and where the account has something to do."""
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == plan["cycle"]["name"]))
    statuses: dict[str, str] = {}
    teams: dict[str, list[str]] = {}
    if cycle is not None:
        statuses = dict(
            db.session.execute(
                select(State.code, Review.status)
                .join(Review, Review.state_id == State.id)
                .where(Review.cycle_id == cycle.id)
            ).all()
        )
        rows = db.session.execute(
            select(User.email, State.name, Assignment.is_lead, Assignment.status)
            .join(Assignment, Assignment.reviewer_id == User.id)
            .join(Review, Review.id == Assignment.review_id)
            .join(State, State.id == Review.state_id)
            .where(Review.cycle_id == cycle.id)
            .order_by(Assignment.is_lead.desc(), State.name)
        )
        for email, state_name, is_lead, status in rows:
            notes = (["lead"] if is_lead else []) + (
                ["invited"] if status == AssignmentStatus.INVITED else []
            )
            teams.setdefault(email, []).append(
                state_name + (f" ({', '.join(notes)})" if notes else "")
            )
    names = dict(db.session.execute(select(State.code, State.name)).all())
    rows = []
    for account in accounts_of(plan):
        code = account["state"]
        if account["role"] == Role.SECRETARIAT:
            note = "—  sees every review"
        elif account.get("organisation"):
            note = account["organisation"]
        elif account["role"] == Role.FOCAL_POINT:
            status = statuses.get(code)
            note = names[code] + (f"  —  review: {REVIEW.label(status).lower()}" if status else "")
        else:
            assigned = teams.get(account["email"])
            note = names[code] + (f"  —  reviews {', '.join(assigned)}" if assigned else "")
        rows.append((account["email"], ROLE_LABELS[account["role"]].lower(), note))
    width_email = max(len(row[0]) for row in rows)
    width_role = max(len(row[1]) for row in rows)
    return ["Accounts:"] + [
        f"  {email:<{width_email}}  {role:<{width_role}}  {note}" for email, role, note in rows
    ]


# --- building ------------------------------------------------------------------------------------


@dataclass
class _Timeline:
    """Turns "N days ago at HH:MM" (cycle's zone) into UTC instants, and sets the app clock."""

    zone: str
    today: date = field(init=False)

    def __post_init__(self) -> None:
        self.today = clock.now().astimezone(ZoneInfo(self.zone)).date()

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=int(days_ago))

    def at(self, days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
        local = datetime.combine(self.day(days_ago), time(hour, minute), ZoneInfo(self.zone))
        return local.astimezone(UTC)

    @contextmanager
    def clock_at(self, instant: datetime) -> Iterator[datetime]:
        """Run the block with `clock.now` returning ``instant`` (restored afterwards)."""
        config = current_app.config
        had, previous = "PILLARS_FROZEN_NOW" in config, config.get("PILLARS_FROZEN_NOW")
        config["PILLARS_FROZEN_NOW"] = instant
        try:
            yield instant
        finally:
            if had:
                config["PILLARS_FROZEN_NOW"] = previous
            else:
                config.pop("PILLARS_FROZEN_NOW", None)


class _Builder:
    """Creates the accounts, the cycle and its reviews, then plays each review to its status."""

    def __init__(self, plan: Mapping[str, Any], framework: Framework):
        self.plan = plan
        self.framework = framework
        self.time = _Timeline(plan["cycle"]["time_zone"])
        self.sections = {
            s.code: s
            for s in db.session.scalars(
                select(FrameworkSection).where(FrameworkSection.framework_id == framework.id)
            )
        }
        self.questions = {
            q.code: q
            for q in db.session.scalars(
                select(Question)
                .join(FrameworkSection)
                .where(FrameworkSection.framework_id == framework.id)
            )
        }
        self.states = {
            s.code: s
            for s in db.session.scalars(
                select(State).where(State.code.in_([e["code"] for e in plan["states"]]))
            )
        }
        self.users: dict[str, User] = {}

    # -- helpers --

    def fire(
        self, actor: User, subject: Any, event: str, days_ago: int, hour: int = 10, **kwargs: Any
    ) -> None:
        """Apply ``event`` through the transition service, dated ``days_ago`` at ``hour``."""
        with self.time.clock_at(self.time.at(days_ago, hour)):
            apply_transition(actor, subject, event, **kwargs)

    def section(self, code: str, where: str) -> FrameworkSection:
        try:
            return self.sections[code]
        except KeyError:
            raise DemoUnavailable(f"Demo data {where}: unknown section {code}") from None

    def focal_point(self, code: str) -> User:
        return self.users[f"fp.{code.lower()}@demo.test"]

    def reviewer(self, code: str) -> User:
        return self.users[f"reviewer.{code.lower()}@demo.test"]

    @property
    def secretariat(self) -> User:
        return self.users[self.plan["secretariat"]["email"]]

    # -- the whole demo --

    def build(self) -> None:
        settings = self.plan["cycle"]
        created = self.time.at(settings["created_days_ago"], 9)
        with self.time.clock_at(created):
            self._accounts(created)
            cycle = cycles.create_cycle(
                settings["name"],
                self.framework,
                self.time.day(settings["starts_days_ago"]),
                settings["time_zone"],
                team_size=settings["team_size"],
                **settings["durations"],
            )
            cycle.created_at = created
            reviews = []
            for entry in self.plan["states"]:
                review = cycles.add_review(cycle, self.states[entry["code"]])
                review.created_at = created
                reviews.append(review)
            db.session.commit()
        self.fire(self.secretariat, cycle, "open_cycle", settings["starts_days_ago"], 9)
        for entry, review in zip(self.plan["states"], reviews, strict=True):
            _ReviewPlayer(self, review, entry).play()
        _PillarTwo(
            self, dict(zip([e["code"] for e in self.plan["states"]], reviews, strict=True))
        ).play()

    def _accounts(self, created: datetime) -> None:
        for account in accounts_of(self.plan):
            user = db.session.scalar(select(User).where(User.email == account["email"]))
            if user is None:
                state = self.states.get(account["state"]) if account["state"] else None
                kind = account.get("kind")
                user = cycles.create_user(
                    account["email"],
                    account["name"],
                    account["role"],
                    PASSWORD,
                    state,
                    organisation=account.get("organisation"),
                    stakeholder_kind=StakeholderKind(kind) if kind else None,
                )
                user.created_at = created
            self.users[account["email"]] = user


class _PillarTwo:
    """Plays ``pillar_two.yaml`` (issue 18): partners' requests, offers and programmes, and
    stakeholders' screened submissions, each step through its service at its planned time."""

    def __init__(self, builder: _Builder, reviews: dict[str, Review]):
        self.b = builder
        self.reviews = reviews
        self.data = builder.plan.get("pillar_two") or {}
        self.people = {
            e["key"]: builder.users[e["email"]]
            for key in ("partners", "stakeholders")
            for e in self.data.get(key, [])
        }

    def at(self, days_ago: int):
        return self.b.time.clock_at(self.b.time.at(days_ago, 11))

    def play(self) -> None:
        for entry in self.data.get("requests", []):
            self.request(entry)
        for entry in self.data.get("submissions", []):
            self.submission(entry)
        for entry in self.data.get("summaries", []):
            review = self.reviews[entry["state"]]
            stakeholders.save_summary(
                review, self.section(review, entry["section"]).id, entry["body"], self.b.secretariat
            )
        db.session.commit()

    @staticmethod
    def section(review: Review, number: int):
        return next(s for s in review.cycle.framework.sections if s.number == number)

    def request(self, entry: Mapping[str, Any]) -> None:
        review = self.reviews[entry["state"]]
        fp = self.b.focal_point(entry["state"])
        with self.at(entry.get("shared_days_ago", 1) + 2):
            item = assistance.save_request(
                None,
                state=review.state,
                review=review,
                user=fp,
                area=AssistanceArea(entry["area"]),
                purpose_code="",
                title=entry["title"],
                need=entry["need"],
                shared_details=entry.get("shared", ""),
                section_id=None,
                recommendation_ids=[],
            )
        if entry.get("draft"):
            return
        with self.at(entry["shared_days_ago"]):
            assistance.share_request(item, fp)
        for number, plan in enumerate(entry.get("offers", [])):
            with self.at(entry["shared_days_ago"] - 1 - number):
                offer = assistance.make_offer(
                    item,
                    self.people[plan["partner"]],
                    kind=OfferKind(plan["kind"]),
                    description=plan["description"],
                    safeguards=plan.get("safeguards", ""),
                    amount=Decimal(str(plan["amount"])) if "amount" in plan else None,
                    currency=plan.get("currency", ""),
                    starts_on=self.b.time.day(plan["starts_days_ago"]),
                    ends_on=self.b.time.day(plan["ends_days_ago"]),
                )
            if plan.get("decision") != "accept":
                continue
            with self.at(plan["decided_days_ago"]):
                programme = assistance.decide_offer(offer, fp, accept=True, reason="")
            for note in plan.get("notes", []):
                author = fp if note["side"] == "state" else self.people[plan["partner"]]
                with self.at(note["days_ago"]):
                    assistance.add_note(programme, author, note["body"])
            if "completed_days_ago" in plan:
                with self.at(plan["completed_days_ago"]):
                    assistance.complete_programme(programme, fp)
            for side, evaluation in (plan.get("evaluations") or {}).items():
                author = fp if side == "state" else self.people[plan["partner"]]
                with self.at(plan.get("completed_days_ago", 1) - 2):
                    assistance.save_evaluation(
                        programme,
                        author,
                        what_was_done=evaluation["what_was_done"],
                        outcomes=evaluation["outcomes"],
                        what_worked=evaluation["what_worked"],
                        what_did_not=evaluation["what_did_not"],
                        would_repeat=evaluation["would_repeat"],
                        consent_to_publish=evaluation["consent"],
                    )
        db.session.commit()

    def submission(self, entry: Mapping[str, Any]) -> None:
        review = self.reviews[entry["state"]]
        texts = {self.section(review, n).id: body for n, body in entry["sections"].items()}
        with self.at(entry["days_ago"]):
            submission = stakeholders.submit(
                review, self.people[entry["stakeholder"]], anonymous=entry["anonymous"], texts=texts
            )
        if entry.get("screening"):
            with self.at(entry["screened_days_ago"]):
                stakeholders.screen(
                    submission, self.b.secretariat, entry["screening"], entry.get("reason", "")
                )
        db.session.commit()


class _ReviewPlayer:
    """Writes one review's data step by step and fires each event its planned status needs."""

    def __init__(self, builder: _Builder, review: Review, entry: Mapping[str, Any]):
        self.b = builder
        self.review = review
        self.code = entry["code"]
        self.entry = entry
        self.content = entry["content"]
        self.when = entry.get("timeline", {})
        self.target = ORDER.index(ReviewStatus(entry["status"]))
        self.fp = builder.focal_point(self.code)
        self.assignments: dict[str, Assignment] = {}

    def reaches(self, status: ReviewStatus) -> bool:
        return self.target >= ORDER.index(status)

    def where(self, part: str) -> str:
        return f"{self.code.lower()}.yaml, {part}"

    def play(self) -> None:
        self.self_assessment()
        if self.reaches(R.SCREENING):
            self.b.fire(self.fp, self.review, "submit_self_assessment", self.when["submitted"], 16)
        if self.reaches(R.PEER_ASSIGNMENT):
            self.b.fire(
                self.b.secretariat, self.review, "accept_self_assessment", self.when["accepted"], 10
            )
            self.team()
        if self.reaches(R.EVALUATION):
            self.b.fire(
                self.b.secretariat,
                self.review,
                "start_evaluation",
                self.when["evaluation_started"],
                10,
            )
            self.evaluations()
        if self.reaches(R.FACTUAL_CHECK):
            self.report()
            self.factual_comments()
        if self.reaches(R.RESPONSE):
            self.b.fire(self.b.secretariat, self.review, "adopt_report", self.when["adopted"], 11)
            self.publication()
        recommendations = self.responses()
        if self.reaches(R.FOLLOW_UP):
            self.b.fire(
                self.fp, self.review, "submit_response", self.when["response_submitted"], 15
            )
            self.follow_up(recommendations)
        if self.reaches(R.RESPONSE) and self.content.get("action_plan"):
            self.action_plan([recommendation for recommendation, _data in recommendations])
        if self.reaches(R.ENHANCED_FOLLOW_UP) and not self.reaches(R.CLOSED):
            self.b.fire(
                self.b.secretariat,
                self.review,
                "escalate",
                self.when["escalated"],
                11,
                reason=self.content["escalation_reason"],
            )
        if self.reaches(R.CLOSED):
            self.b.fire(self.b.secretariat, self.review, "close_review", self.when["closed"], 11)
        self.deadline_changes()

    def deadline_changes(self) -> None:
        """The secretariat's deadline changes of ``deadline_changes`` (stage, new day counted
        from today — negative: in the past —, when it was changed, reason), on the record."""
        from app.services.deadlines import change_deadline

        for change in self.entry.get("deadline_changes", []):
            with self.b.time.clock_at(self.b.time.at(change["changed_days_ago"], 15)):
                change_deadline(
                    self.b.secretariat,
                    self.review,
                    change["stage"],
                    self.b.time.day(-int(change["due_in_days"])),
                    None,
                    change["reason"],
                )
                db.session.commit()

    # -- self-assessment --

    def self_assessment(self) -> None:
        saved = self.b.time.at(self.when["last_saved"], 17, 30)
        existing = {
            a.question_id: a
            for a in db.session.scalars(select(Answer).where(Answer.review_id == self.review.id))
        }
        for qcode, data in (self.content.get("answers") or {}).items():
            question = self.b.questions.get(qcode)
            if question is None:
                raise DemoUnavailable(
                    f"Demo data {self.where('answers')}: unknown question {qcode}"
                )
            answer = existing.get(question.id)
            if answer is None:
                answer = Answer(review_id=self.review.id, question_id=question.id)
                db.session.add(answer)
            if "level" in data:
                answer.level = int(data["level"])
            if "choice" in data:
                answer.choice = _choice(data["choice"])
            answer.narrative = _text(data.get("narrative"))
            answer.evidence = _text(data.get("evidence"))
            answer.prefilled = False
            answer.updated_at = saved
            answer.updated_by_id = self.fp.id
        for scode, data in (self.content.get("gaps") or {}).items():
            db.session.add(
                SectionGaps(
                    review_id=self.review.id,
                    section_id=self.b.section(scode, self.where("gaps")).id,
                    capacity_gaps=_text(data.get("capacity_gaps")),
                    assistance_sought=list(data.get("assistance_sought") or []),
                    assistance_details=_text(data.get("assistance_details")),
                    updated_at=saved,
                )
            )
        db.session.commit()

    # -- peer assignment and evaluation --

    def team(self) -> None:
        for member in self.entry.get("team", []):
            reviewer = self.b.reviewer(member["reviewer"])
            invited = self.b.time.at(member["invited"], 11)
            with self.b.time.clock_at(invited):
                assignment = cycles.assign_reviewer(
                    self.review,
                    reviewer,
                    self.b.secretariat,
                    is_lead=bool(member.get("lead")),
                    justification=_text(member.get("justification")),
                )
                assignment.created_at = invited
                db.session.commit()
            self.assignments[member["reviewer"]] = assignment
            if "accepted" in member:
                self.b.fire(
                    reviewer,
                    assignment,
                    "accept",
                    member["accepted"],
                    14,
                    facts={"no_conflict": True},
                )

    def evaluations(self) -> None:
        written = self.content.get("evaluations") or {}
        proposals_from_report: dict[str, list[dict[str, Any]]] = {}
        for rec in self.content.get("recommendations") or []:
            if rec.get("proposed_by"):
                proposals_from_report.setdefault(rec["proposed_by"], []).append(rec)
        for member in self.entry.get("team", []):
            code = member["reviewer"]
            if code not in written:
                continue
            data = written[code]
            assignment = self.assignments[code]
            saved = self.b.time.at(data["last_saved"], 18)
            evaluation = Evaluation(
                assignment_id=assignment.id, summary=_text(data.get("summary")), updated_at=saved
            )
            db.session.add(evaluation)
            db.session.flush()
            findings = data.get("findings") or {}
            practices = data.get("good_practices") or {}
            for scode, rating in (data.get("ratings") or {}).items():
                db.session.add(
                    EvaluationSection(
                        evaluation_id=evaluation.id,
                        section_id=self.b.section(scode, self.where(f"evaluation {code}")).id,
                        rating=rating,
                        findings=_text(findings.get(scode)),
                        good_practices=_text(practices.get(scode)),
                    )
                )
            proposals = list(data.get("proposals") or []) + proposals_from_report.get(code, [])
            for proposal in proposals:
                row = ProposedRecommendation(
                    evaluation_id=evaluation.id,
                    section_id=self.b.section(proposal["section"], self.where("proposals")).id,
                    text=_text(proposal["text"]),
                    action_category=int(proposal["action_category"]),
                    created_at=saved,
                )
                db.session.add(row)
                db.session.flush()
                proposal["_proposal_id"] = row.id
            db.session.commit()
            if "submitted" in member:
                self.b.fire(
                    self.b.reviewer(code), assignment, "submit_evaluation", member["submitted"], 17
                )

    # -- report, factual check, response, follow-up --

    def report(self) -> None:
        data = self.content["report"]
        submitted = self.when["draft_submitted"]
        drafted = self.b.time.at(submitted, 9)
        report = Report(
            review_id=self.review.id,
            executive_summary=_text(data["executive_summary"]),
            updated_at=drafted,
        )
        db.session.add(report)
        db.session.flush()
        for scode, section in data["sections"].items():
            db.session.add(
                ReportSection(
                    report_id=report.id,
                    section_id=self.b.section(scode, self.where("report")).id,
                    consensus_rating=section["rating"],
                    findings=_text(section.get("findings")),
                    good_practices=_text(section.get("good_practices")),
                )
            )
        for rec in self.content["recommendations"]:
            db.session.add(
                Recommendation(
                    review_id=self.review.id,
                    section_id=self.b.section(rec["section"], self.where("recommendations")).id,
                    text=_text(rec["text"]),
                    priority=Priority(rec["priority"]),
                    action_category=int(rec["action_category"]),
                    addressee=Addressee(rec.get("addressee", "state")),
                    target_date=self.b.time.day(submitted) + timedelta(days=30 * rec["months"]),
                    proposal_id=rec.get("_proposal_id"),
                    created_at=drafted,
                )
            )
        lead = next(m["reviewer"] for m in self.entry["team"] if m.get("lead"))
        self.b.fire(self.b.reviewer(lead), self.review, "submit_draft_report", submitted, 16)

    def factual_comments(self) -> None:
        comments = self.content.get("factual_comments") or []
        if not comments:
            return
        report = db.session.scalar(select(Report).where(Report.review_id == self.review.id))
        sent = self.when["comments_sent"]
        for comment in comments:
            section = comment.get("section")
            db.session.add(
                FactualComment(
                    report_id=report.id,
                    author_id=self.fp.id,
                    body=_text(comment["body"]),
                    section_id=self.b.section(section, self.where("comments")).id
                    if section
                    else None,
                    created_at=self.b.time.at(sent, 15),
                )
            )
        self.b.fire(self.fp, self.review, "submit_factual_comments", sent, 15)

    def responses(self) -> list[tuple[Recommendation, Mapping[str, Any]]]:
        """Write the drafted responses; return (recommendation, its data) pairs in file order."""
        if not self.reaches(R.RESPONSE):
            return []
        rows = db.session.scalars(
            select(Recommendation)
            .where(Recommendation.review_id == self.review.id)
            .order_by(Recommendation.id)
        ).all()
        pairs = list(zip(rows, self.content["recommendations"], strict=True))
        for recommendation, data in pairs:
            answer = data.get("response")
            if not answer:
                continue
            db.session.add(
                Response(
                    recommendation_id=recommendation.id,
                    position=ResponsePosition(answer["position"])
                    if answer.get("position")
                    else None,
                    explanation=_text(answer.get("explanation")),
                    planned_action=_text(answer.get("planned_action")),
                    responsible_institution=_text(answer.get("responsible_institution")),
                    target_date=recommendation.target_date,
                    updated_at=self.b.time.at(answer["days_ago"], 12),
                    updated_by_id=self.fp.id,
                )
            )
        db.session.commit()
        return pairs

    def publication(self) -> None:
        """The state's consent to publication (``publication: {level, days_ago}``), if any."""
        consent = self.entry.get("publication")
        if consent:
            db.session.add(
                PublicationConsent(
                    review_id=self.review.id,
                    level=ConsentLevel(consent["level"]),
                    author_id=self.fp.id,
                    created_at=self.b.time.at(consent["days_ago"], 12),
                )
            )
            db.session.flush()
            current.refresh(db.session, review_ids=[self.review.id])
            db.session.commit()

    def follow_up(self, pairs: list[tuple[Recommendation, Mapping[str, Any]]]) -> None:
        for recommendation, data in pairs:
            for update in data.get("progress") or []:
                db.session.add(
                    ProgressUpdate(
                        recommendation_id=recommendation.id,
                        status=ProgressStatus(update["status"]),
                        narrative=_text(update["narrative"]),
                        author_id=self.fp.id,
                        created_at=self.b.time.at(update["days_ago"], 11),
                    )
                )
            assessment = data.get("assessment")
            if assessment:
                db.session.add(
                    Assessment(
                        recommendation_id=recommendation.id,
                        status=AssessmentStatus(assessment["status"]),
                        note=_text(assessment["note"]),
                        author_id=self.b.secretariat.id,
                        created_at=self.b.time.at(assessment["days_ago"], 14),
                    )
                )
        db.session.flush()
        current.refresh(
            db.session, recommendation_ids=[recommendation.id for recommendation, _data in pairs]
        )
        db.session.commit()

    def action_plan(self, recommendations: list[Recommendation]) -> None:
        """The state's action plan (issue 17), written through `app.services.action_plan` as the
        focal point would: ``institutions`` (names), and per measure of ``action_plan`` its
        ``recommendations`` (1-based positions in the file), lead and contributing institutions,
        dates (``start_days_ago``, ``due_days_ago`` or ``due_in_days``), budget line, indicators
        (with ``frequency``), milestones, and dated ``progress`` entries with indicator values
        (by indicator position) and milestones completed (by position)."""
        from app.services import action_plan as plans

        written = self.b.time.at(self.when.get("response_submitted", 60) + 2, 9)
        with self.b.time.clock_at(written):
            names = {
                name: plans.add_institution(self.review.state_id, name, self.fp)
                for name in self.content.get("institutions", [])
            }
        for item in self.content["action_plan"]:
            where = self.where(f"action plan, {item['title']}")
            try:
                with self.b.time.clock_at(written):
                    measure = plans.save_measure(
                        self.review,
                        self.fp,
                        title=item["title"],
                        description=_text(item.get("description")),
                        recommendation_ids=[
                            recommendations[n - 1].id for n in item["recommendations"]
                        ],
                        lead_institution_id=names[item["lead"]].id,
                        contributor_ids=[names[n].id for n in item.get("contributors", [])],
                        start_date=self.b.time.day(item["start_days_ago"]),
                        due_date=self.b.time.day(-item["due_in_days"])
                        if "due_in_days" in item
                        else self.b.time.day(item["due_days_ago"]),
                        budget_line=_text(item.get("budget")),
                    )
                    indicators = [
                        plans.add_indicator(measure, self.fp, **indicator)
                        for indicator in item.get("indicators", [])
                    ]
                    milestones = [
                        plans.add_milestone(
                            measure,
                            self.fp,
                            title=m["title"],
                            due_date=self.b.time.day(-m["due_in_days"])
                            if "due_in_days" in m
                            else self.b.time.day(m["due_days_ago"]),
                        )
                        for m in item.get("milestones", [])
                    ]
                for entry in item.get("progress", []):
                    with self.b.time.clock_at(self.b.time.at(entry["days_ago"], 11)):
                        plans.report_progress(
                            measure,
                            self.fp,
                            narrative=_text(entry["narrative"]),
                            status=entry["status"],
                            values={
                                indicators[int(k) - 1].id: v
                                for k, v in (entry.get("values") or {}).items()
                            },
                            completed_milestone_ids=[
                                milestones[n - 1].id for n in entry.get("milestones", [])
                            ],
                        )
            except (KeyError, IndexError, plans.PlanError) as error:
                raise DemoUnavailable(f"Demo data {where}: {error}") from error
        db.session.commit()


def _choice(value: Any) -> Choice:
    """A yes / partial / no answer; YAML reads bare yes and no as booleans."""
    if value is True:
        return Choice.YES
    if value is False:
        return Choice.NO
    return Choice(str(value))


def _text(value: Any) -> str:
    return str(value or "").strip()
