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

from sqlalchemy import select

from app.extensions import db
from app.models import Assignment, Cycle, Review, ReviewDeadline, Role, User
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


@dataclass(frozen=True)
class Rule:
    """``event`` (``"<lifecycle>:<event>"``) notifies ``audiences`` with ``template`` as
    ``kind``; ``condition`` (if any) must hold after the step (e.g. "the team is complete");
    ``deadline`` names the stage whose deadline the message gives; ``with_reason`` passes the
    actor's reason (e.g. why a self-assessment was returned)."""

    event: str
    kind: str
    audiences: tuple[str, ...]
    template: str
    summary: str
    condition: Callable[[Any], bool] | None = None
    condition_text: str = ""
    deadline: str | None = None
    with_reason: bool = False


def _team_complete(assignment: Assignment) -> bool:
    review = assignment.review
    accepted = db.session.scalar(
        select(db.func.count(Assignment.id)).where(
            Assignment.review_id == review.id, Assignment.status.in_(TEAM)
        )
    )
    return accepted == review.cycle.team_size


def _all_evaluations_in(assignment: Assignment) -> bool:
    waiting = db.session.scalar(
        select(db.func.count(Assignment.id)).where(
            Assignment.review_id == assignment.review_id,
            Assignment.status == AssignmentStatus.ACCEPTED,
        )
    )
    return waiting == 0


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
        with_reason=True,
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
    get nothing). Call after the step's changes, before the commit."""
    rules = rules_for(lifecycle, event)
    if not rules:
        return 0
    assignment = subject if isinstance(subject, Assignment) else None
    review: Review = subject.review if assignment is not None else subject
    queued = 0
    for rule in rules:
        if rule.condition is not None and not rule.condition(subject):
            continue
        context = _context(review, rule, reason)
        if assignment is not None and rule.audiences == ("reviewer",):
            context["link"] = f"/assignments/{assignment.id}"
        for recipient in _recipients(rule.audiences, review, assignment):
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


def _context(review: Review, rule: Rule, reason: str) -> dict[str, Any]:
    cycle: Cycle = review.cycle
    context: dict[str, Any] = {
        "state_name": review.state.name,
        "cycle_name": cycle.name,
        "link": f"/reviews/{review.id}",
        "reason": reason.strip() if rule.with_reason else "",
        "deadline": None,
    }
    if rule.deadline is not None:
        due_at = db.session.scalar(
            select(ReviewDeadline.due_at).where(
                ReviewDeadline.review_id == review.id, ReviewDeadline.stage == rule.deadline
            )
        )
        if due_at is not None:
            context["deadline"] = format_deadline(due_at, cycle.time_zone)
    return context


def format_deadline(due_at, zone: str) -> str:
    """``"12 Mar 2027, 23:59 (Africa/Nairobi)"``: the instant in the cycle's zone, zone named
    (DESIGN §8)."""
    from app.web.helpers import format_instant

    return format_instant(due_at, zone)


def _recipients(
    audiences: tuple[str, ...], review: Review, assignment: Assignment | None
) -> list[User]:
    """The distinct active users the ``audiences`` name for ``review``, in a stable order."""
    found: dict[int, User] = {}
    for audience in audiences:
        for user in _audience(audience, review, assignment):
            if user.active:
                found.setdefault(user.id, user)
    return list(found.values())


def _audience(name: str, review: Review, assignment: Assignment | None) -> list[User]:
    if name == "reviewer":
        return [assignment.reviewer] if assignment is not None else []
    if name == "focal_points":
        return list(
            db.session.scalars(
                select(User)
                .where(User.role == Role.FOCAL_POINT, User.state_id == review.state_id)
                .order_by(User.id)
            )
        )
    if name == "secretariat":
        return list(
            db.session.scalars(select(User).where(User.role == Role.SECRETARIAT).order_by(User.id))
        )
    if name in ("team", "lead"):
        query = (
            select(User)
            .join(Assignment, Assignment.reviewer_id == User.id)
            .where(Assignment.review_id == review.id, Assignment.status.in_(TEAM))
            .order_by(User.id)
        )
        if name == "lead":
            query = query.where(Assignment.is_lead.is_(True))
        return list(db.session.scalars(query))
    raise ValueError(f"unknown audience {name!r}")


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
