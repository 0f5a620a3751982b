"""Who hears what: the one table of which workflow event notifies whom, with which template
(issue 6 §2). README's "Who hears what" table is generated from `RULES` (`markdown_table`) and
a test checks that they agree.

`notify` is called by the transition service (`app.services.transitions.apply_transition`) and
by the invitation (`app.services.cycles.assign_reviewer`) inside their transaction, after the
step's own changes: the notifications are written with the step's `TransitionLog` row and sent
only after the commit.

Privacy (DESIGN §5 applies to e-mails): the templates receive only the review's state, cycle,
stage deadlines (in the cycle's zone, zone named) and, where the rule says so, the reason typed
by the actor. A focal point's message never names a reviewer nor shows an evaluation; a
reviewer's invitation shows the state, the cycle and the deadlines only; a message about one
state's review goes only to that state's focal points, the review's team and the secretariat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, event, select
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db
from app.formatting import LocalInstant
from app.models import Assignment, Cycle, Review, ReviewDeadline, Role, State, User
from app.services import notifications
from workflows import AssignmentStatus

#: Who an audience name means, for the review concerned.
AUDIENCES = {
    "reviewer": "the reviewer of the assignment",
    "focal_points": "the reviewed state's focal points",
    "team": "the review team (reviewers who accepted)",
    "lead": "the lead reviewer",
    "secretariat": "every secretariat account",
}

TEAM = (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)
_SECRETARIAT_KEY = "pillars_secretariat_users"


@dataclass(frozen=True)
class Rule:
    """``event`` (``"<lifecycle>:<event>"``) notifies ``audiences`` with ``template`` as
    ``kind``; ``condition`` (if any) must hold after the step (e.g. "the team is complete");
    ``deadline`` names the stage whose deadline the message gives; ``with_reason`` passes the
    actor's reason (e.g. why a self-assessment was returned); ``more_context`` (if any) adds
    to the templates' context what the step recorded (one query)."""

    event: str
    kind: str
    audiences: tuple[str, ...]
    template: str
    summary: str
    condition: Callable[[Any], bool] | None = None
    condition_text: str = ""
    deadline: str | None = None
    with_reason: bool = False
    more_context: Callable[[Review], dict[str, Any]] | None = None


# The queries `notify` runs for every step, built once (bound parameters) rather than per call.
_ACCEPTED_SEATS = (
    select(db.func.count(Assignment.id))
    .where(Assignment.review_id == Review.id, Assignment.status.in_(TEAM))
    .correlate(Review)
    .scalar_subquery()
)
_TEAM_COMPLETE = (
    select(Cycle.team_size == _ACCEPTED_SEATS)
    .select_from(Review)
    .join(Cycle, Cycle.id == Review.cycle_id)
    .where(Review.id == bindparam("review_id"))
)
_ANY_EVALUATION_WAITING = (
    select(Assignment.id)
    .where(
        Assignment.review_id == bindparam("review_id"),
        Assignment.status == AssignmentStatus.ACCEPTED,
    )
    .limit(1)
)
_REVIEW_FACTS = (
    select(State.name, Cycle.name, Cycle.time_zone, ReviewDeadline.stage, ReviewDeadline.due_at)
    .select_from(Review)
    .join(State, State.id == Review.state_id)
    .join(Cycle, Cycle.id == Review.cycle_id)
    .outerjoin(
        ReviewDeadline,
        and_(
            ReviewDeadline.review_id == Review.id,
            ReviewDeadline.stage.in_(bindparam("stages", expanding=True)),
        ),
    )
    .where(Review.id == bindparam("review_id"))
)
_FOCAL_POINTS = (
    select(User)
    .where(User.role == Role.FOCAL_POINT, User.state_id == bindparam("state_id"))
    .order_by(User.id)
)
_SECRETARIAT = select(User).where(User.role == Role.SECRETARIAT).order_by(User.id)
_TEAM = (
    select(User)
    .join(Assignment, Assignment.reviewer_id == User.id)
    .where(Assignment.review_id == bindparam("review_id"), Assignment.status.in_(TEAM))
    .order_by(User.id)
)
_LEAD = _TEAM.where(Assignment.is_lead.is_(True))


def _team_complete(assignment: Assignment) -> bool:
    """The review's accepted seats (accepted or submitted) number the cycle's team size."""
    return bool(db.session.scalar(_TEAM_COMPLETE, {"review_id": assignment.review_id}))


def _all_evaluations_in(assignment: Assignment) -> bool:
    """No reviewer of the review is still accepted without having submitted."""
    waiting = db.session.scalar(_ANY_EVALUATION_WAITING, {"review_id": assignment.review_id})
    return waiting is None


def _closed_into(review: Review) -> dict[str, Any]:
    """The new cycle's name, the number of recommendations carried and the link to the new
    review, from the latest ``close_into_next_cycle`` log row of ``review`` (issue 16)."""
    from app.models import TransitionLog

    payload = (
        db.session.scalar(
            select(TransitionLog.payload)
            .where(
                TransitionLog.subject_type == "review",
                TransitionLog.subject_id == review.id,
                TransitionLog.event == "close_into_next_cycle",
            )
            .order_by(TransitionLog.id.desc())
            .limit(1)
        )
        or {}
    )
    if "cycle_name" not in payload:  # fired by hand (the page never offers it): name the cycle
        from app.services.transitions import lazy_review_facts

        payload = {"cycle_name": lazy_review_facts(review, None)["next_cycle"] or ""}
    return {
        "next_cycle_name": payload.get("cycle_name", ""),
        "carried": int(payload.get("carried", 0)),
        "link": f"/reviews/{payload['into_review_id']}" if "into_review_id" in payload else "",
    }


def _latest_midterm(review: Review) -> dict[str, Any]:
    """The number of the review's latest mid-term report and the link to it (issue 16)."""
    from app.models import MidtermReport

    version = db.session.scalar(
        select(db.func.max(MidtermReport.version)).where(MidtermReport.review_id == review.id)
    )
    return {"version": version or 0, "link": f"/reviews/{review.id}/mid-term/{version or 0}"}


RULES: tuple[Rule, ...] = (
    Rule(
        "assignment:invite",
        "invitation",
        ("reviewer",),
        "invitation",
        "Invitation to review (assigned by hand or drawn by lot)",
        deadline="evaluation",
    ),
    Rule(
        "assignment:reinstate",
        "invitation",
        ("reviewer",),
        "invitation",
        "Invitation renewed (reinstated)",
        deadline="evaluation",
    ),
    Rule(
        "assignment:decline",
        "invitation_declined",
        ("secretariat",),
        "invitation_declined",
        "A reviewer declined an invitation",
    ),
    Rule(
        "assignment:declare_conflict",
        "invitation_declined",
        ("secretariat",),
        "invitation_declined",
        "A reviewer declared a conflict of interest",
    ),
    Rule(
        "assignment:withdraw_assignment",
        "assignment_withdrawn",
        ("reviewer",),
        "assignment_withdrawn",
        "A reviewer's assignment is withdrawn by the secretariat",
    ),
    Rule(
        "review:submit_self_assessment",
        "self_assessment_submitted",
        ("secretariat",),
        "self_assessment_submitted",
        "Self-assessment submitted",
    ),
    Rule(
        "review:return_self_assessment",
        "self_assessment_returned",
        ("focal_points",),
        "self_assessment_returned",
        "Self-assessment returned for completion, with the reason",
        deadline="self_assessment",
        with_reason=True,
    ),
    Rule(
        "assignment:accept",
        "team_complete",
        ("secretariat",),
        "team_complete",
        "Team complete",
        condition=_team_complete,
        condition_text="when this acceptance completes the team",
    ),
    Rule(
        "review:start_evaluation",
        "evaluation_started",
        ("team",),
        "evaluation_started",
        "Evaluation starts",
        deadline="evaluation",
    ),
    Rule(
        "assignment:submit_evaluation",
        "evaluations_in",
        ("lead", "secretariat"),
        "evaluations_in",
        "All evaluations in",
        condition=_all_evaluations_in,
        condition_text="when the last evaluation of the team is submitted",
    ),
    Rule(
        "assignment:return_evaluation",
        "evaluation_returned",
        ("reviewer",),
        "evaluation_returned",
        "Evaluation returned to its reviewer, with the reason",
        deadline="evaluation",
        with_reason=True,
    ),
    Rule(
        "review:submit_draft_report",
        "factual_check",
        ("focal_points",),
        "factual_check",
        "Draft report ready for factual check",
        deadline="factual_check",
    ),
    Rule(
        "review:adopt_report",
        "report_adopted",
        ("team",),
        "report_adopted",
        "Report adopted",
    ),
    Rule(
        "review:adopt_report",
        "response_due",
        ("focal_points",),
        "response_due",
        "Report adopted: the state's response is due",
        deadline="response",
    ),
    Rule(
        "review:submit_response",
        "progress_report_due",
        ("focal_points",),
        "progress_report_due",
        "Response received: progress report due (follow-up)",
        deadline="follow_up",
    ),
    Rule(
        "review:escalate",
        "escalation",
        ("focal_points", "secretariat"),
        "escalation",
        "Escalation to enhanced follow-up, with the reason",
        deadline="follow_up",
        with_reason=True,
    ),
    Rule(
        "review:deescalate",
        "back_to_regular_follow_up",
        ("focal_points", "secretariat"),
        "back_to_regular_follow_up",
        "Enhanced follow-up ends: back to regular follow-up, with the reason",
        deadline="follow_up",
        with_reason=True,
    ),
    Rule(
        "review:hold_another_round",
        "another_enhanced_round",
        ("focal_points", "secretariat"),
        "another_enhanced_round",
        "Another round of enhanced follow-up, with the reason",
        deadline="follow_up",
        with_reason=True,
    ),
    Rule(
        "review:give_formal_notice",
        "formal_notice",
        ("focal_points", "secretariat"),
        "formal_notice",
        "Formal notice: the plenary will discuss the state's compliance, with the reason",
        deadline="follow_up",
        with_reason=True,
    ),
    Rule(
        "review:close_into_next_cycle",
        "follow_up_closed_into_next_cycle",
        ("focal_points", "secretariat"),
        "follow_up_closed_into_next_cycle",
        "Follow-up closed into the state's review of the next cycle, its open recommendations "
        "carried over",
        more_context=_closed_into,
    ),
    Rule(
        "review:midterm_report",
        "midterm_report",
        ("focal_points",),
        "midterm_report",
        "New mid-term report of the state's follow-up",
        more_context=_latest_midterm,
    ),
    Rule(
        "review:withdraw",
        "review_withdrawn",
        ("focal_points",),
        "review_withdrawn",
        "Review withdrawn, with the reason",
        with_reason=True,
    ),
)


def rules_for(lifecycle: str, event: str) -> list[Rule]:
    key = f"{lifecycle}:{event}"
    return [rule for rule in RULES if rule.event == key]


def notify(lifecycle: str, event: str, subject: Any, reason: str = "") -> int:
    """Queue the notifications `RULES` gives for ``event`` on ``subject`` (a Review or an
    Assignment) in the current transaction; returns how many were queued (inactive recipients
    get nothing). Call after the step's changes, before the commit.

    Cost: one query per condition, one for the review's state, cycle and the deadlines the
    messages give, one per audience (the secretariat's accounts once per transaction), then
    the templates rendered per recipient; nothing is cached beyond the transaction."""
    rules = [
        rule
        for rule in rules_for(lifecycle, event)
        if rule.condition is None or rule.condition(subject)
    ]
    if not rules:
        return 0
    assignment = subject if isinstance(subject, Assignment) else None
    review: Review = subject.review if assignment is not None else subject
    # the lookups below read the step's changes (flushed here, or by a condition's query), never
    # the messages queued meanwhile: those are written together at the commit
    db.session.flush()
    with db.session.no_autoflush:
        return _queue_all(rules, review, assignment, reason)


def _queue_all(
    rules: list[Rule], review: Review, assignment: Assignment | None, reason: str
) -> int:
    facts = _review_facts(review.id, {rule.deadline for rule in rules} - {None})
    audiences: dict[str, list[User]] = {}
    queued = 0
    for rule in rules:
        context = _context(review, rule, reason, facts)
        if rule.more_context is not None:
            context.update(rule.more_context(review))
        if assignment is not None and rule.audiences == ("reviewer",):
            context["link"] = f"/assignments/{assignment.id}"
        for recipient in _recipients(rule.audiences, review, assignment, audiences):
            note = notifications.queue(
                recipient,
                rule.kind,
                template=rule.template,
                context=context,
                review=review,
                assignment=assignment if rule.audiences == ("reviewer",) else None,
            )
            queued += note is not None
    return queued


@dataclass(frozen=True)
class _ReviewFacts:
    """What the messages about one review say: names, and deadlines already formatted."""

    state_name: str
    cycle_name: str
    deadlines: dict[str, str]


def _review_facts(review_id: int, stages: set[str]) -> _ReviewFacts:
    """The review's state and cycle names and the deadlines of ``stages`` (formatted in the
    cycle's zone), in one query."""
    rows = db.session.execute(
        _REVIEW_FACTS, {"review_id": review_id, "stages": sorted(stages)}
    ).all()
    state_name, cycle_name, zone = rows[0][:3]
    deadlines = {
        stage: format_deadline(due_at, zone)
        for *_names, stage, due_at in rows
        if stage is not None and due_at is not None
    }
    return _ReviewFacts(state_name, cycle_name, deadlines)


def _context(review: Review, rule: Rule, reason: str, facts: _ReviewFacts) -> dict[str, Any]:
    return {
        "state_name": facts.state_name,
        "cycle_name": facts.cycle_name,
        "link": f"/reviews/{review.id}",
        "reason": reason.strip() if rule.with_reason else "",
        "deadline": facts.deadlines.get(rule.deadline) if rule.deadline is not None else None,
    }


def format_deadline(due_at, zone: str) -> LocalInstant:
    """``"12 Mar 2027, 23:59 (Africa/Nairobi)"``: the instant in the cycle's zone, zone named
    (DESIGN §8), formatted when printed in the recipient's language (`LocalInstant`)."""
    return LocalInstant(due_at, zone)


def _recipients(
    audiences: tuple[str, ...],
    review: Review,
    assignment: Assignment | None,
    known: dict[str, list[User]] | None = None,
) -> list[User]:
    """The distinct active users the ``audiences`` name for ``review``, in a stable order;
    ``known``: audiences already looked up by this call of `notify` (filled in)."""
    known = {} if known is None else known
    found: dict[int, User] = {}
    for audience in audiences:
        if audience not in known:
            known[audience] = _audience(audience, review, assignment)
        for user in known[audience]:
            if user.active:
                found.setdefault(user.id, user)
    return list(found.values())


def _audience(name: str, review: Review, assignment: Assignment | None) -> list[User]:
    if name == "reviewer":
        return [assignment.reviewer] if assignment is not None else []
    if name == "focal_points":
        return list(db.session.scalars(_FOCAL_POINTS, {"state_id": review.state_id}))
    if name == "secretariat":
        return _secretariat()
    if name in ("team", "lead"):
        query = _LEAD if name == "lead" else _TEAM
        return list(db.session.scalars(query, {"review_id": review.id}))
    raise ValueError(f"unknown audience {name!r}")


def _secretariat() -> list[User]:
    """Every secretariat account, read once per transaction of ``db.session`` (kept in
    ``session.info``, dropped when the transaction ends: never shared between requests or
    processes). An account made secretariat later in the same transaction is not seen."""
    session = db.session()
    cached = session.info.get(_SECRETARIAT_KEY)
    if cached is None:
        cached = session.info[_SECRETARIAT_KEY] = list(session.scalars(_SECRETARIAT))
    return cached


@event.listens_for(Session, "after_transaction_end")
def _forget_secretariat(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_SECRETARIAT_KEY, None)


def markdown_table() -> str:
    """The README's "Who hears what" table, from `RULES`."""
    lines = [
        "| Event | Notifies | Kind | Deadline given | Template |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES:
        event = rule.summary + (f" ({rule.condition_text})" if rule.condition_text else "")
        who = ", ".join(AUDIENCES[a] for a in rule.audiences)
        deadline = rule.deadline.replace("_", " ") if rule.deadline else "—"
        lines.append(
            f"| {event} — `{rule.event}` | {who} | `{rule.kind}` | {deadline} "
            f"| `email/{rule.template}` |"
        )
    return "\n".join(lines)
