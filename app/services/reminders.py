"""Reminders before stage deadlines, and escalation to the secretariat when work is overdue
(issue 6 part B; DESIGN §4 "their reminders stop", §8 "Reminders go before a deadline and at it;
overdue work escalates to the secretariat").

A *pass* (`run_pass`, run by ``flask --app wsgi reminders run``, safe from cron every few minutes)
looks at the deadline of every review's current stage in an open cycle and queues, through the
outbox (`app.services.notifications.queue`), what is due at that moment:

* **Who owes the work** (`open_stages`): self-assessment → the state's active focal points (while
  the review is in ``self_assessment``; once submitted the work is done); evaluation → each
  accepted reviewer who has not submitted, per assignment, and the lead reviewer, who owes the
  draft report until it is submitted (a declined, conflicted or withdrawn assignment owes nothing:
  a reassigned seat's new reviewer gets reminders of their own); factual check → the focal points,
  until the state sent its comments on the current draft; response → the focal points; follow-up
  and enhanced follow-up → the focal points (progress on the recommendations, due at the follow-up
  deadline). Invited reviewers get no reminders: no invitation deadline exists. Screening and peer
  assignment are the secretariat's own work: no reminders. Inactive accounts get nothing; a
  planning or closed cycle, a closed or withdrawn review, get nothing.
* **When** (`shift`, `due_reminder`): "N days before" means N *calendar* days before the deadline in
  the cycle's IANA time zone, at the same local wall-clock time — "7 days before 30 March 23:59:59
  Europe/Berlin" fires on 23 March at 23:59:59 Berlin time, even though the clocks changed in
  between (6 days 23 hours of real time). Stored and compared in UTC. A wall time that does not
  exist (clocks going forward) resolves one hour later on the clock; one that happens twice
  resolves to its first occurrence. Offsets come from ``REMINDER_OFFSETS_DAYS`` (default 14, 7,
  1 and 0 = at the deadline); escalation from ``ESCALATION_AFTER_DAYS`` (default 3 calendar days
  after the deadline, same wall time). One setting for all cycles.
* **Only the latest due reminder**: when a pass finds several offsets due for the same deadline
  and person (cron was down, the review entered the stage late, the deadline was moved closer), it
  queues only the one nearest to the deadline; the earlier ones are never sent afterwards. A
  before-deadline reminder expires at the deadline; the at-deadline one (0) stays due after it,
  so a late pass still tells the person once that the deadline has passed.
* **Never twice** (`Planned.dedupe_key`): the outbox's unique ``dedupe_key`` holds the kind, the
  review, the stage, the deadline instant (UTC), the person (the assignment for reviewers, the
  account for focal points and the secretariat) and the offset. Two passes at once, or one after
  another, queue each message once. When the secretariat moves a deadline, the new instant gives
  new keys: reminders re-arm for the new date, and the latest offset already due at the new date
  fires at the next pass (moving a deadline to the day after tomorrow sends its 7-day reminder
  once; the 14-day one never). Moving it back to an instant already reminded about sends nothing
  again.
* **Escalation**: once per deadline instant and secretariat account, when the stage is overdue by
  at least ``ESCALATION_AFTER_DAYS`` and someone outside the secretariat still owes work (also
  when that someone has no active account — exactly when the secretariat must know).
* **Stops**: the same owed-work rule decides what stays queued: a reminder or escalation not yet
  delivered (queued, or failed and waiting for a retry) whose work is no longer owed is cancelled
  by the next pass (`cancel_stale`).

Reads are bounded: a pass makes a fixed number of SELECTs whatever the number of reviews (see
`open_stages`); writes are one outbox row per message queued. Like every service this flushes and
never commits: the CLI commits once, and the outbox delivers after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Assignment, Cycle, Review, ReviewDeadline, Role, User
from app.services import clock, history
from app.services.notification_rules import format_deadline
from workflows import AssignmentStatus, CycleStatus, ReviewStatus
from workflows.base import N_

R = ReviewStatus
A = AssignmentStatus

REMINDER = "reminder"
ESCALATION = "overdue"  # not "escalation": that kind is the move to enhanced follow-up
KINDS = (REMINDER, ESCALATION)

#: Review status → the stage whose deadline someone outside the secretariat is working towards.
OWED_STAGE = {
    R.SELF_ASSESSMENT: "self_assessment",
    R.EVALUATION: "evaluation",
    R.FACTUAL_CHECK: "factual_check",
    R.RESPONSE: "response",
    R.FOLLOW_UP: "follow_up",
    R.ENHANCED_FOLLOW_UP: "follow_up",
}

#: Task key → what the person is reminded to do (translated when the e-mail is rendered).
TASKS = {
    "self_assessment": N_("complete and submit the self-assessment"),
    "evaluation": N_("file your evaluation"),
    "evaluation_and_report": N_(
        "file your evaluation and then consolidate and submit the draft report (lead reviewer)"
    ),
    "draft_report": N_("consolidate and submit the draft report (lead reviewer)"),
    "factual_check": N_("send the state's factual-accuracy comments on the draft report"),
    "response": N_("answer each recommendation of the adopted report"),
    "follow_up": N_("report progress on the implementation of the recommendations"),
    "measure": N_(
        "complete the measures of the action plan that are due, or report their progress"
    ),
    "indicator": N_("report the values of the action plan's indicators that are due"),
}

#: Stage key → its name inside a sentence (translated when rendered).
STAGE_LABELS = {
    "self_assessment": N_("self-assessment"),
    "evaluation": N_("evaluation"),
    "factual_check": N_("factual check"),
    "response": N_("response"),
    "follow_up": N_("follow-up"),
    "measure": N_("action plan measure"),
    "indicator": N_("indicator report"),
}


# --- the schedule (pure) -------------------------------------------------------------------------


def shift(instant: datetime, days: int, zone: str) -> datetime:
    """``instant`` moved by ``days`` calendar days (negative: earlier) at the same wall-clock time
    in IANA ``zone``, as an aware UTC datetime.

    The rule an official expects: 7 days before 30 March 23:59:59 in Europe/Berlin is 23 March at
    23:59:59 Berlin time, whatever the clocks did in between. A wall time skipped when the clocks
    go forward resolves one hour later on the clock; a repeated one, to its first occurrence.
    """
    tz = ZoneInfo(zone)
    local = instant.astimezone(tz).replace(tzinfo=None)
    moved = (local + timedelta(days=days)).replace(tzinfo=tz, fold=0)
    return moved.astimezone(UTC)


def reminder_times(
    due_at: datetime, zone: str, offsets: Iterable[int]
) -> list[tuple[int, datetime]]:
    """``(days before, aware UTC instant)`` of each reminder of the deadline ``due_at``, earliest
    first; ``offsets`` are calendar days before it in ``zone`` (0: at the deadline)."""
    return sorted(((days, shift(due_at, -days, zone)) for days in set(offsets)), key=lambda p: p[1])


def due_reminder(due_at: datetime, zone: str, offsets: Iterable[int], now: datetime) -> int | None:
    """The offset (days before ``due_at``) to send at ``now``, or None when none is due.

    The latest-due one only: of the reminders whose time has come, the nearest to the deadline.
    A before-deadline reminder (days > 0) expires at the deadline itself; the at-deadline one (0)
    stays due after it. Instants are aware; ``zone`` is the cycle's IANA zone.
    """
    due = [
        days
        for days, at in reminder_times(due_at, zone, offsets)
        if at <= now and (days == 0 or now < due_at)
    ]
    return min(due) if due else None


def next_reminder(
    due_at: datetime, zone: str, offsets: Iterable[int], now: datetime
) -> tuple[int, datetime] | None:
    """``(days before, aware UTC instant)`` of the next reminder after ``now``, or None."""
    for days, at in reminder_times(due_at, zone, offsets):
        if at > now:
            return days, at
    return None


def escalation_time(due_at: datetime, zone: str, after_days: int) -> datetime:
    """When an unfinished stage escalates: ``after_days`` calendar days after ``due_at`` in
    ``zone``, same wall time; aware UTC."""
    return shift(due_at, after_days, zone)


def escalation_due(due_at: datetime, zone: str, after_days: int, now: datetime) -> bool:
    """True once ``now`` is at or after `escalation_time`."""
    return now >= escalation_time(due_at, zone, after_days)


def _instant_key(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- who owes what ------------------------------------------------------------------------------


@dataclass
class Owed:
    """One person who owes work on a stage: the account, the task key (`TASKS`), and for
    reviewers their assignment (reminders are per assignment)."""

    user: User
    task: str
    assignment: Assignment | None = None

    @property
    def who(self) -> str:
        """``a<assignment id>`` for reviewers, ``u<user id>`` otherwise (part of dedupe keys)."""
        return f"a{self.assignment.id}" if self.assignment is not None else f"u{self.user.id}"


@dataclass
class OpenStage:
    """The current stage of one review with work still owed outside the secretariat.

    ``due_at`` is the stage's deadline (aware UTC); ``owed`` the active accounts that owe work
    (may be empty: nobody to remind, the secretariat is still told when it is overdue).
    """

    review: Review
    stage: str
    due_at: datetime
    owed: list[Owed] = field(default_factory=list)
    #: for an action plan's due date (``stage`` "measure" or "indicator", issue 17): the
    #: measure's or indicator's id; such items are reminded about, never escalated
    item: int | None = None

    @property
    def zone(self) -> str:
        return self.review.cycle.time_zone

    @property
    def key(self) -> str:
        stage = self.stage if self.item is None else f"{self.stage}-{self.item}"
        return f"{self.review.id}:{stage}:{_instant_key(self.due_at)}"


def open_stages() -> list[OpenStage]:
    """Every review's current stage that someone outside the secretariat still owes work on, in
    open cycles, with the active accounts that owe it (see the module docstring for the rule).

    At most five SELECTs whatever the number of reviews: the reviews with their current deadline,
    cycle and state; the factual-check history; the focal points; the assignments; none of them
    repeated per review.
    """
    stage_match = or_(
        *(
            and_(Review.status == status, ReviewDeadline.stage == stage)
            for status, stage in OWED_STAGE.items()
        )
    )
    rows = db.session.execute(
        select(Review, ReviewDeadline)
        .join(ReviewDeadline, ReviewDeadline.review_id == Review.id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .where(Cycle.status == CycleStatus.OPEN, stage_match)
        .options(joinedload(Review.cycle), joinedload(Review.state))
        .order_by(Review.id)
    ).all()
    stages = [OpenStage(review, deadline.stage, deadline.due_at) for review, deadline in rows]

    in_factual_check = [s.review.id for s in stages if s.review.status == R.FACTUAL_CHECK]
    if in_factual_check:
        latest = history.latest_events(
            in_factual_check, ("submit_draft_report", "submit_factual_comments")
        )
        commented = {
            review_id for review_id, row in latest.items() if row.event == "submit_factual_comments"
        }
        stages = [s for s in stages if s.review.id not in commented]

    state_ids = {s.review.state_id for s in stages if s.stage != "evaluation"}
    focal_points: dict[int, list[User]] = {}
    if state_ids:
        for user in db.session.scalars(
            select(User)
            .where(
                User.role == Role.FOCAL_POINT,
                User.active.is_(True),
                User.state_id.in_(state_ids),
            )
            .order_by(User.id)
        ):
            focal_points.setdefault(user.state_id, []).append(user)

    evaluating = [s.review.id for s in stages if s.stage == "evaluation"]
    team: dict[int, list[Assignment]] = {}
    if evaluating:
        for assignment in db.session.scalars(
            select(Assignment)
            .join(User, User.id == Assignment.reviewer_id)
            .where(
                Assignment.review_id.in_(evaluating),
                Assignment.status.in_((A.ACCEPTED, A.SUBMITTED)),
                User.active.is_(True),
            )
            .options(joinedload(Assignment.reviewer))
            .order_by(Assignment.id)
        ):
            team.setdefault(assignment.review_id, []).append(assignment)

    for stage in stages:
        if stage.stage == "evaluation":
            for assignment in team.get(stage.review.id, []):
                task = _evaluation_task(assignment)
                if task is not None:
                    stage.owed.append(Owed(assignment.reviewer, task, assignment))
        else:
            for user in focal_points.get(stage.review.state_id, []):
                stage.owed.append(Owed(user, stage.stage))
    return stages + plan_items(stages)


#: Review statuses whose action plan's due dates are reminded about (issue 17).
PLAN_STAGES = (R.RESPONSE, R.FOLLOW_UP, R.ENHANCED_FOLLOW_UP)


def plan_items(stages: Sequence[OpenStage]) -> list[OpenStage]:
    """The due dates of the action plans of ``stages``' reviews in response or (enhanced)
    follow-up, as stages owed by the same focal points: each unfinished measure's due date and
    each of its indicators' next report (`app.services.action_plan.next_report_due`), the end of
    that day in the cycle's zone. One SELECT, none when no review is in those statuses."""
    from sqlalchemy import func

    from app.models import Indicator, IndicatorValue, Measure
    from app.services.action_plan import FINISHED, next_report_day

    reviews = {s.review.id: s for s in stages if s.review.status in PLAN_STAGES and s.item is None}
    if not reviews:
        return []
    rows = db.session.execute(
        select(
            Measure.id,
            Measure.review_id,
            Measure.due_date,
            Measure.start_date,
            Measure.created_at,
            Indicator.id,
            Indicator.frequency,
            func.max(IndicatorValue.measured_on),
        )
        .outerjoin(Indicator, Indicator.measure_id == Measure.id)
        .outerjoin(IndicatorValue, IndicatorValue.indicator_id == Indicator.id)
        .where(Measure.review_id.in_(list(reviews)), Measure.status.not_in(FINISHED))
        .group_by(
            Measure.id,
            Measure.review_id,
            Measure.due_date,
            Measure.start_date,
            Measure.created_at,
            Indicator.id,
            Indicator.frequency,
        )
        .order_by(Measure.id, Indicator.id)
    ).all()
    items: list[OpenStage] = []
    seen: set[int] = set()
    for measure_id, review_id, due, start, created, indicator_id, frequency, last in rows:
        parent = reviews[review_id]
        zone = parent.zone
        if due is not None and measure_id not in seen:
            seen.add(measure_id)
            items.append(_item(parent, "measure", measure_id, clock.end_of_day(due, zone)))
        if indicator_id is not None:
            day = next_report_day(frequency, last, start or created.date())
            items.append(_item(parent, "indicator", indicator_id, clock.end_of_day(day, zone)))
    return items


def _item(parent: OpenStage, stage: str, ident: int, due_at: datetime) -> OpenStage:
    owed = [Owed(o.user, stage) for o in parent.owed if o.assignment is None]
    return OpenStage(parent.review, stage, due_at, owed, item=ident)


def _evaluation_task(assignment: Assignment) -> str | None:
    """What an assignment owes while its review is in evaluation (None: nothing)."""
    if assignment.status == A.ACCEPTED:
        return "evaluation_and_report" if assignment.is_lead else "evaluation"
    if assignment.status == A.SUBMITTED and assignment.is_lead:
        return "draft_report"
    return None


# --- what a pass queues -------------------------------------------------------------------------


@dataclass
class Planned:
    """One message a pass would queue.

    ``kind`` is `REMINDER` (``days`` before the deadline, 0 = at it) or `ESCALATION` (``days``
    overdue, the configured threshold); ``recipient`` the account; ``owed`` the owed work it is
    about (reminders) — escalations carry the whole stage.
    """

    kind: str
    stage: OpenStage
    days: int
    recipient: User
    owed: Owed | None = None

    @property
    def dedupe_key(self) -> str:
        """``reminder:<review>:<stage>:<deadline UTC>:<a|u><id>:<days>`` or
        ``escalation:<review>:<stage>:<deadline UTC>:u<secretariat id>`` (at most ~80 chars)."""
        if self.kind == REMINDER:
            return f"{REMINDER}:{self.stage.key}:{self.owed.who}:{self.days}"
        return f"{ESCALATION}:{self.stage.key}:u{self.recipient.id}"

    @property
    def assignment(self) -> Assignment | None:
        return self.owed.assignment if self.owed is not None else None

    def describe(self) -> str:
        """One line for the command's output (English, for the operator)."""
        review = self.stage.review
        if self.kind == REMINDER:
            when = "at the deadline" if self.days == 0 else f"{self.days} d before"
        else:
            when = f"{self.days} d overdue"
        return (
            f"{self.kind} ({when}): {review.state.name} — {review.cycle.name}, "
            f"{self.stage.stage}, to {self.recipient.display_name} <{self.recipient.email}>"
        )


def plan(
    stages: Sequence[OpenStage],
    secretariat: Sequence[User],
    now: datetime,
    offsets: Iterable[int],
    escalation_days: int,
) -> list[Planned]:
    """Every message due at ``now`` for ``stages`` (pure: no database), before removing what was
    already queued: per owed person the latest due reminder (`due_reminder`), and per secretariat
    account one escalation of each stage overdue by ``escalation_days`` or more."""
    offsets = tuple(offsets)
    planned: list[Planned] = []
    for stage in stages:
        days = due_reminder(stage.due_at, stage.zone, offsets, now)
        if days is not None:
            planned.extend(Planned(REMINDER, stage, days, o.user, o) for o in stage.owed)
        if stage.item is None and escalation_due(stage.due_at, stage.zone, escalation_days, now):
            planned.extend(Planned(ESCALATION, stage, escalation_days, s) for s in secretariat)
    return planned


def active_secretariat() -> list[User]:
    """The active secretariat accounts, who receive escalations (one SELECT)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.SECRETARIAT, User.active.is_(True))
            .order_by(User.id)
        )
    )


def settings() -> tuple[tuple[int, ...], int]:
    """``(REMINDER_OFFSETS_DAYS, ESCALATION_AFTER_DAYS)`` of the running app (see config.py)."""
    config = current_app.config
    return tuple(config["REMINDER_OFFSETS_DAYS"]), int(config["ESCALATION_AFTER_DAYS"])


#: Task key → the page where the work is done (endpoint, and whether it takes the assignment).
TASK_PAGES = {
    "self_assessment": ("self_assessment.overview", False),
    "evaluation": ("evaluation.edit", True),
    "evaluation_and_report": ("evaluation.edit", True),
    "draft_report": ("report.edit", False),
    "factual_check": ("report.show", False),
    "response": ("follow_up.response", False),
    "follow_up": ("follow_up.show", False),
    "measure": ("action_plan.show", False),
    "indicator": ("action_plan.show", False),
}


def _path(endpoint: str, **values: int) -> str:
    """The site-relative path of ``endpoint`` (built outside a request: the CLI has none)."""
    return current_app.url_map.bind("").build(endpoint, values)


def _context(planned: Planned, now: datetime) -> dict:
    """What the e-mail templates receive. Reminders name the recipient's own task only (never a
    co-reviewer, and a focal point's never a reviewer: DESIGN §5); escalations, for the
    secretariat, name who still owes the work."""
    stage = planned.stage
    review = stage.review
    context = {
        "state_name": review.state.name,
        "cycle_name": review.cycle.name,
        "stage": stage.stage,
        "stage_label": STAGE_LABELS[stage.stage],
        "deadline": format_deadline(stage.due_at, stage.zone),
        "days": planned.days,
        "passed": now >= stage.due_at,
    }
    if planned.kind == REMINDER:
        endpoint, per_assignment = TASK_PAGES[planned.owed.task]
        context["task"] = TASKS[planned.owed.task]
        context["link"] = (
            _path(endpoint, assignment_id=planned.owed.assignment.id)
            if per_assignment
            else _path(endpoint, review_id=review.id)
        )
    else:
        context["overdue_days"] = max(0, (now - stage.due_at).days)
        context["owed_by"] = [(o.user.display_name, TASKS[o.task]) for o in stage.owed]
        context["link"] = _path("reviews.show", review_id=review.id)
    return context


TEMPLATES = {REMINDER: "deadline_reminder", ESCALATION: "overdue_escalation"}


@dataclass
class PassResult:
    """What one pass did: the messages it ``queued`` (for a dry run: would queue), how many due
    ones had been queued by an earlier pass (``already``), and how many undelivered messages it
    cancelled because their work is no longer owed."""

    queued: list[Planned]
    already: int = 0
    cancelled: int = 0
    dry_run: bool = False
    #: reviews for which enhanced follow-up was proposed by this pass (issue 17)
    proposals: int = 0

    @property
    def reminders(self) -> int:
        return sum(1 for p in self.queued if p.kind == REMINDER)

    @property
    def escalations(self) -> int:
        return sum(1 for p in self.queued if p.kind == ESCALATION)


def run_pass(now: datetime | None = None, *, dry_run: bool = False) -> PassResult:
    """One reminder pass at ``now`` (aware; default `clock.now()`): cancel undelivered messages
    for work no longer owed, then queue every due reminder and escalation not queued before.

    Flushes, never commits: the caller commits once, after which the outbox delivers. With
    ``dry_run`` nothing is written. The SELECTs are a fixed handful whatever the number of reviews
    (`open_stages`, the secretariat, the keys already used, the undelivered messages); each
    message queued costs the outbox's own duplicate check and INSERT (and, on PostgreSQL, a
    SAVEPOINT): 5 SELECTs for a pass with nothing new, at 10 reviews as at 193.
    """
    from app.services import enhanced_follow_up, notifications

    now = now or clock.now()
    offsets, escalation_days = settings()
    stages = open_stages()
    secretariat = active_secretariat()
    due = plan(stages, secretariat, now, offsets, escalation_days)
    used = _used_keys([p.dedupe_key for p in due])
    fresh = [p for p in due if p.dedupe_key not in used]
    proposals = len(enhanced_follow_up.propose_due(now, dry_run=dry_run))
    if dry_run:
        return PassResult(fresh, already=len(due) - len(fresh), dry_run=True, proposals=proposals)
    cancelled = cancel_stale(stages)
    queued = []
    for planned in fresh:
        note = notifications.queue(
            planned.recipient,
            planned.kind,
            template=TEMPLATES[planned.kind],
            context=_context(planned, now),
            review=planned.stage.review,
            assignment=planned.assignment,
            dedupe_key=planned.dedupe_key,
        )
        if note is not None:
            queued.append(planned)
    db.session.flush()
    return PassResult(
        queued, already=len(due) - len(queued), cancelled=cancelled, proposals=proposals
    )


def _used_keys(keys: list[str]) -> set[str]:
    """The dedupe keys among ``keys`` that the outbox holds already (one SELECT per 5,000)."""
    from app.models import Notification

    used: set[str] = set()
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        used.update(
            db.session.scalars(
                select(Notification.dedupe_key).where(Notification.dedupe_key.in_(chunk))
            )
        )
    return used


CANCELLED_NOTE = "cancelled by the reminders pass: the work is done or no longer owed"


def cancel_stale(stages: Sequence[OpenStage]) -> int:
    """Mark every reminder or escalation still waiting for delivery (queued, or failed and to be
    retried) whose work is no longer owed — stage left, deadline moved, work submitted, assignment
    declined or withdrawn, review withdrawn or closed — as abandoned, with `CANCELLED_NOTE` as
    its last error (the outbox has no separate "cancelled" status). Returns how many."""
    from app.models import Notification, NotificationStatus

    live_stages = {stage.key for stage in stages}
    live_owed = {f"{stage.key}:{owed.who}" for stage in stages for owed in stage.owed}
    waiting = (NotificationStatus.QUEUED, NotificationStatus.FAILED)
    stale = []
    for ident, key in db.session.execute(
        select(Notification.id, Notification.dedupe_key).where(
            Notification.kind.in_(KINDS),
            Notification.status.in_(waiting),
            Notification.dedupe_key.is_not(None),
        )
    ):
        kind, _, rest = key.partition(":")
        owner = rest.rsplit(":", 1)[0]
        if owner not in (live_owed if kind == REMINDER else live_stages):
            stale.append(ident)
    if not stale:
        return 0
    # conditional: a message a sender delivered meanwhile stays sent
    cancelled = db.session.execute(
        update(Notification)
        .where(Notification.id.in_(stale), Notification.status.in_(waiting))
        .values(
            status=NotificationStatus.ABANDONED, next_attempt_at=None, last_error=CANCELLED_NOTE
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return cancelled


@dataclass
class SentSummary:
    """For the review page: per stage, the reminder offsets and escalations already queued for
    its current deadline (``reminder_days``, largest first; ``escalated``), and — for the stage
    the review is working towards, in an open cycle — the next reminder (days before, aware UTC
    instant) if any. Whether that reminder goes to anyone depends on who still owes work."""

    reminder_days: list[int] = field(default_factory=list)
    escalated: bool = False
    next: tuple[int, datetime] | None = None


def summary_for(review: Review) -> dict[str, SentSummary]:
    """Stage → `SentSummary` of ``review``'s deadlines (one SELECT). Only messages for each
    deadline's current instant count: after a move, the new date's reminders start afresh."""
    from app.models import Notification

    offsets, _escalation_days = settings()
    current = {f"{review.id}:{d.stage}:{_instant_key(d.due_at)}": d for d in review.deadlines}
    result = {d.stage: SentSummary() for d in review.deadlines}
    keys = db.session.scalars(
        select(Notification.dedupe_key).where(
            Notification.review_id == review.id,
            Notification.kind.in_(KINDS),
            Notification.dedupe_key.is_not(None),
        )
    )
    for key in keys:
        kind, _, rest = key.partition(":")
        parts = rest.split(":")
        deadline = current.get(":".join(parts[:3]))
        if deadline is None:
            continue
        entry = result[deadline.stage]
        if kind == REMINDER and parts[-1].isdigit():
            if int(parts[-1]) not in entry.reminder_days:
                entry.reminder_days.append(int(parts[-1]))
        elif kind == ESCALATION:
            entry.escalated = True
    now = clock.now()
    owed_stage = OWED_STAGE.get(review.status) if review.cycle.status == CycleStatus.OPEN else None
    for deadline in review.deadlines:
        entry = result[deadline.stage]
        entry.reminder_days.sort(reverse=True)
        if deadline.stage == owed_stage:
            entry.next = next_reminder(deadline.due_at, review.cycle.time_zone, offsets, now)
    return result
