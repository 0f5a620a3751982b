"""The only code that changes a workflow status (DESIGN §4).

`apply_transition` checks the role rule (``app/access.py``), locks and re-reads the row, computes
the facts the guards need (each when a guard first reads it: `LazyFacts`), fires the event on the
lifecycle's machine, applies the event's side effects, writes exactly one `TransitionLog` row, and
commits once — or rolls everything back. The notifications the event causes
(``app/services/notification_rules.py``) are queued in the same transaction, and sent after the
commit. Other work for after the commit is queued with ``after_commit`` (or, from a side effect,
`app.services.after_commit.on_commit`): it runs only once the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import get_translations
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict, Forbidden

from app import access
from app.extensions import db
from app.models import (
    Answer,
    Assignment,
    Cycle,
    Evaluation,
    EvaluationSection,
    FrameworkSection,
    Question,
    Recommendation,
    Report,
    ReportSection,
    Response,
    ResponsePosition,
    Review,
    ReviewDeadline,
    Role,
    State,
    TransitionLog,
    User,
)
from app.models.assessment import answer_given
from app.models.recommendation import Assessment
from app.services import clock, notification_rules
from app.services.after_commit import on_commit
from workflows import (
    ASSIGNMENT,
    CYCLE,
    REVIEW,
    AssignmentStatus,
    CycleStatus,
    Lifecycle,
    ReviewStatus,
    TransitionSpec,
)
from workflows.base import Refusal, context_refusal


class ActedFirst(Conflict):
    """Someone else changed the object first; the request's view of it is stale (HTTP 409)."""

    description = "Someone acted first: this item changed while you were looking at it."


LIFECYCLES: dict[type, Lifecycle] = {Review: REVIEW, Assignment: ASSIGNMENT, Cycle: CYCLE}


def lifecycle_of(subject: Any) -> Lifecycle:
    return LIFECYCLES[type(subject)]


def context_facts(subject: Any) -> dict[str, Any]:
    """The facts context guards read, from objects already loaded (no extra query per row)."""
    if isinstance(subject, Assignment):
        return {"review_status": str(subject.review.status)}
    if isinstance(subject, Review):
        facts: dict[str, Any] = {"cycle_status": str(subject.cycle.status)}
        if subject.status == ReviewStatus.FACTUAL_CHECK:  # one query, only in factual check
            facts["factual_comments_sent"] = _factual_comments_sent(subject)
        if subject.status == ReviewStatus.CLOSED:  # one query, only once closed
            facts.update(_closed_into_cycle(subject))
        return facts
    return {}


def available_specs(user: User, subject: Any) -> list[TransitionSpec]:
    """The transitions ``user`` may fire on ``subject`` now: role rule, source status and context
    guards. Other guards are evaluated when fired, so that their refusal can be shown."""
    lifecycle = lifecycle_of(subject)
    context = context_facts(subject)
    return [
        spec
        for spec in lifecycle.specs_from(subject.status)
        if access.may_fire(user, spec, subject) and context_refusal(spec, context) is None
    ]


def apply_transition(
    actor: User,
    subject: Review | Assignment | Cycle,
    event: str,
    *,
    reason: str = "",
    expected_status: str | None = None,
    facts: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
    after_commit: Iterable[Callable[[TransitionLog], None]] = (),
) -> TransitionLog:
    """Fire ``event`` on ``subject`` as ``actor`` and commit.

    ``expected_status`` is the status the actor saw on screen; if the row has moved on since, the
    request fails with `ActedFirst` (409) rather than acting on a state nobody saw. ``facts`` add
    to the facts computed here (e.g. ``no_conflict`` from a form). Each of ``after_commit`` is
    called with the `TransitionLog` row once the commit succeeded, and never when anything failed.

    Returns the `TransitionLog` row written.
    Raises:
        Forbidden: the actor is not the one the transition table names.
        ActedFirst: concurrent change (stale status or version).
        workflows.InvalidTransition: the event is not possible from the current status.
        workflows.TransitionRefused: a guard refused; nothing was changed.
    """
    lifecycle = lifecycle_of(subject)
    spec = lifecycle.spec(event)
    try:
        locked = _lock(subject)
        if expected_status is not None and str(locked.status) != str(expected_status):
            raise ActedFirst()
        if not access.may_fire(actor, spec, locked):
            raise Forbidden("You may not do this.")
        now = clock.now()
        all_facts = FACTS[lifecycle.name](locked, now)
        all_facts.update(facts or {})
        all_facts.update({"reason": reason, "now": now})
        before = str(locked.status)
        after = lifecycle.fire(before, event, all_facts)
        locked.status = lifecycle.statuses(after)
        SIDE_EFFECTS.get((lifecycle.name, event), _nothing)(locked, actor, reason, now)
        if lifecycle is REVIEW and after != before:
            locked.status_changed_at = now
        log = TransitionLog(
            subject_type=lifecycle.name,
            subject_id=locked.id,
            event=event,
            from_state=before,
            to_state=after,
            actor_id=actor.id,
            created_at=now,
            reason=reason.strip(),
            payload=dict(payload or {}),
        )
        db.session.add(log)
        notification_rules.notify(lifecycle.name, event, locked, reason)
        for callback in after_commit:
            on_commit(lambda callback=callback: callback(log))
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ActedFirst() from None
    except BaseException:
        db.session.rollback()
        raise
    access.forget_cached_assignments()
    return log


def _lock(subject: Any) -> Any:
    """Re-read ``subject`` under a row lock (FOR UPDATE on PostgreSQL; SQLite serialises writers,
    and the version column catches the rest)."""
    model = type(subject)
    locked = db.session.scalar(
        select(model)
        .where(model.id == subject.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise ActedFirst()
    return locked


# --- facts the guards read (see each guard's docstring in workflows/) -------------------------


class LazyFacts(Mapping[str, Any]):
    """The facts of one transition, each computed the first time a guard reads it.

    ``groups`` maps each fact's name to a function that computes it together with related facts
    in one or two queries (returning a dict of them); facts a guard never reads cost nothing, so
    each event pays only for the queries its own guards need. ``given`` facts (a form's, the
    reason, the time) are known from the start and win over computed ones.
    """

    def __init__(
        self,
        groups: Mapping[str, Callable[[], Mapping[str, Any]]],
        given: Mapping[str, Any] | None = None,
    ):
        self._groups = groups
        self._values: dict[str, Any] = {}
        self._given = dict(given or {})

    def update(self, more: Mapping[str, Any]) -> None:
        self._given.update(more)

    def __getitem__(self, key: str) -> Any:
        if key in self._given:
            return self._given[key]
        if key not in self._values:
            if key not in self._groups:
                raise KeyError(key)
            self._values.update(self._groups[key]())
        return self._values[key]

    def __iter__(self):
        return iter(dict.fromkeys([*self._groups, *self._given]))

    def __len__(self) -> int:
        return len(set(self._groups) | set(self._given))


def _grouped(*groups: tuple[tuple[str, ...], Callable[[], Mapping[str, Any]]]) -> dict:
    """``{fact name: function}`` from ``(names, function computing them)`` pairs."""
    return {name: compute for names, compute in groups for name in names}


def review_facts(review: Review, now: datetime) -> dict[str, Any]:
    """Facts for every Review guard, all computed (see `lazy_review_facts`)."""
    return dict(lazy_review_facts(review, now))


def lazy_review_facts(review: Review, now: datetime) -> LazyFacts:
    """Facts for every Review guard, each group computed when first read, in at most two
    queries per group."""
    return LazyFacts(
        _grouped(
            (("cycle_status", "team_size"), lambda: _cycle_of_review(review)),
            (("missing_required",), lambda: _missing_required(review)),
            (
                ("accepted_reviewers", "lead_count", "open_conflicts", "unsubmitted_assignments"),
                lambda: _team_facts(review),
            ),
            (("unrated_sections",), lambda: _unrated_report_sections(review)),
            (
                (
                    "recommendation_count",
                    "unanswered_recommendations",
                    "unassessed_recommendations",
                ),
                lambda: _recommendation_counts(review),
            ),
            (
                ("factual_comments_sent",),
                lambda: {"factual_comments_sent": _factual_comments_sent(review)},
            ),
            (("factual_check_deadline",), lambda: _factual_check_deadline(review)),
            (("next_cycle",), lambda: _next_cycle(review)),
            (("closed_into_cycle",), lambda: _closed_into_cycle(review)),
            (
                ("incomplete_responses",),
                lambda: {
                    "incomplete_responses": incomplete_responses(review)
                    if review.status == ReviewStatus.RESPONSE
                    else []
                },
            ),
        )
    )


def _cycle_of_review(review: Review) -> dict[str, Any]:
    cycle = review.cycle
    return {"cycle_status": str(cycle.status), "team_size": cycle.team_size}


def _missing_required(review: Review) -> dict[str, Any]:
    required = db.session.execute(
        select(
            Question.code,
            Question.answer_type,
            Answer.id,
            Answer.level,
            Answer.choice,
            Answer.narrative,
        )
        .join(FrameworkSection, Question.section_id == FrameworkSection.id)
        .join(Cycle, Cycle.framework_id == FrameworkSection.framework_id)
        .outerjoin(Answer, (Answer.question_id == Question.id) & (Answer.review_id == review.id))
        .where(Cycle.id == review.cycle_id, Question.required.is_(True))
        .order_by(FrameworkSection.number, Question.position)
    ).all()
    return {
        "missing_required": [
            row.code
            for row in required
            if row.id is None
            or not answer_given(row.answer_type, row.level, row.choice, row.narrative)
        ]
    }


def _team_facts(review: Review) -> dict[str, Any]:
    rows = db.session.execute(
        select(Assignment.status, Assignment.is_lead, User.state_id)
        .join(User, User.id == Assignment.reviewer_id)
        .where(Assignment.review_id == review.id)
    ).all()
    accepted = [row for row in rows if row.status in access.TEAM]
    return {
        "accepted_reviewers": len(accepted),
        "lead_count": sum(1 for row in accepted if row.is_lead),
        "open_conflicts": sum(1 for row in accepted if row.state_id == review.state_id),
        "unsubmitted_assignments": sum(
            1 for row in accepted if row.status == AssignmentStatus.ACCEPTED
        ),
    }


def _unrated_report_sections(review: Review) -> dict[str, Any]:
    """Sections of the review's framework without a consensus rating in its report. One query."""
    rated = (
        select(ReportSection.section_id)
        .join(Report, Report.id == ReportSection.report_id)
        .where(Report.review_id == review.id, ReportSection.consensus_rating.is_not(None))
    )
    sections = db.session.execute(
        select(FrameworkSection.number, FrameworkSection.code)
        .join(Cycle, Cycle.framework_id == FrameworkSection.framework_id)
        .where(Cycle.id == review.cycle_id, FrameworkSection.id.not_in(rated))
        .order_by(FrameworkSection.number)
    ).all()
    return {"unrated_sections": [f"{number} ({code})" for number, code in sections]}


def _recommendation_counts(review: Review) -> dict[str, Any]:
    """Recommendations of the review, those without a response position and those without an
    assessment. One query."""
    rec_ids = select(Recommendation.id).where(Recommendation.review_id == review.id)
    count, answered, assessed = db.session.execute(
        select(
            select(func.count(Recommendation.id))
            .where(Recommendation.review_id == review.id)
            .scalar_subquery(),
            select(func.count(Response.id))
            .where(Response.recommendation_id.in_(rec_ids), Response.position.is_not(None))
            .scalar_subquery(),
            select(func.count(func.distinct(Assessment.recommendation_id)))
            .where(Assessment.recommendation_id.in_(rec_ids))
            .scalar_subquery(),
        )
    ).one()
    return {
        "recommendation_count": count,
        "unanswered_recommendations": count - answered,
        "unassessed_recommendations": count - assessed,
    }


def _factual_check_deadline(review: Review) -> dict[str, Any]:
    deadline = db.session.scalar(
        select(ReviewDeadline.due_at).where(
            ReviewDeadline.review_id == review.id, ReviewDeadline.stage == "factual_check"
        )
    )
    return {"factual_check_deadline": deadline}


def _next_cycle(review: Review) -> dict[str, Any]:
    """``next_cycle``: the name of the earliest open cycle, starting after the review's own, in
    which the review's state has a review (the one its follow-up may be closed into), or None."""
    own = review.cycle
    name = db.session.scalar(
        select(Cycle.name)
        .join(Review, Review.cycle_id == Cycle.id)
        .where(
            Review.state_id == review.state_id,
            Cycle.id != own.id,
            Cycle.status == CycleStatus.OPEN,
            (Cycle.starts_on > own.starts_on)
            | ((Cycle.starts_on == own.starts_on) & (Cycle.id > own.id)),
        )
        .order_by(Cycle.starts_on, Cycle.id)
        .limit(1)
    )
    return {"next_cycle": name}


def _closed_into_cycle(review: Review) -> dict[str, Any]:
    """``closed_into_cycle``: the name of the cycle the review's follow-up was last closed into
    (its latest closing event was ``close_into_next_cycle``), or None. One query."""
    log = TransitionLog
    last = db.session.execute(
        select(log.event, log.payload)
        .where(
            log.subject_type == "review",
            log.subject_id == review.id,
            log.to_state == ReviewStatus.CLOSED,
        )
        .order_by(log.id.desc())
        .limit(1)
    ).first()
    if last is None or last.event != "close_into_next_cycle":
        return {"closed_into_cycle": None}
    return {"closed_into_cycle": (last.payload or {}).get("cycle_name") or "?"}


def incomplete_responses(review: Review) -> list[str]:
    """Each answered recommendation of ``review`` whose response misses a part the submission
    needs (guard ``all_responses_complete``), as ``"2.1 (explanation, target date)"``: the
    number the response page shows (section number . position in the section) and the missing
    parts, translated. One query."""
    rows = db.session.execute(
        select(
            Recommendation.section_id,
            FrameworkSection.number,
            Response.position,
            Response.explanation,
            Response.planned_action,
            Response.responsible_institution,
            Response.target_date,
        )
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .outerjoin(Response, Response.recommendation_id == Recommendation.id)
        .where(Recommendation.review_id == review.id)
        .order_by(FrameworkSection.number, Recommendation.id)
    ).all()
    result, position_in_section, previous = [], 0, None
    noted = {"explanation": _("explanation")}  # translated once, not per response
    supported = noted | {
        "planned_action": _("planned action"),
        "responsible_institution": _("responsible institution"),
        "target_date": _("target date"),
    }
    for response in rows:
        section_id, number = response.section_id, response.number
        position_in_section = position_in_section + 1 if section_id == previous else 1
        previous = section_id
        if response.position is None:
            continue  # no response, or no position: counted by ``unanswered_recommendations``
        needed = supported if response.position == ResponsePosition.SUPPORTED else noted
        missing = [label for name, label in needed.items() if getattr(response, name) in (None, "")]
        if missing:
            result.append(f"{number}.{position_in_section} ({', '.join(missing)})")
    return result


def _factual_comments_sent(review: Review) -> bool:
    """Whether the state sent its factual-accuracy comments (the ``submit_factual_comments``
    event, even with no comment) since the draft report last entered factual check."""
    log = TransitionLog
    entered = (
        select(func.max(log.id))
        .where(
            log.subject_type == "review",
            log.subject_id == review.id,
            log.event == "submit_draft_report",
        )
        .scalar_subquery()
    )
    sent = db.session.scalar(
        select(func.count(log.id)).where(
            log.subject_type == "review",
            log.subject_id == review.id,
            log.event == "submit_factual_comments",
            log.id > func.coalesce(entered, 0),
        )
    )
    return bool(sent)


def assignment_facts(assignment: Assignment, now: datetime) -> dict[str, Any]:
    """Facts for every Assignment guard, all computed (see `lazy_assignment_facts`)."""
    return dict(lazy_assignment_facts(assignment, now))


def lazy_assignment_facts(assignment: Assignment, now: datetime) -> LazyFacts:
    """Facts for every Assignment guard, computed when first read."""

    def people() -> dict[str, Any]:
        review, reviewer = assignment.review, assignment.reviewer
        return {
            "review_status": str(review.status),
            "reviewer_active": bool(
                reviewer.active and reviewer.role == Role.REVIEWER and reviewer.state_id is not None
            ),
            "own_state": reviewer.state_id == review.state_id,
        }

    def unrated() -> dict[str, Any]:
        rated = (
            select(EvaluationSection.section_id)
            .join(Evaluation, Evaluation.id == EvaluationSection.evaluation_id)
            .where(
                Evaluation.assignment_id == assignment.id,
                EvaluationSection.rating.is_not(None),
            )
        )
        sections = db.session.execute(
            select(FrameworkSection.number, FrameworkSection.code)
            .join(Cycle, Cycle.framework_id == FrameworkSection.framework_id)
            .join(Review, Review.cycle_id == Cycle.id)
            .where(Review.id == assignment.review_id, FrameworkSection.id.not_in(rated))
            .order_by(FrameworkSection.number)
        ).all()
        return {"unrated_sections": [f"{number} ({code})" for number, code in sections]}

    return LazyFacts(
        _grouped(
            (("review_status", "reviewer_active", "own_state"), people),
            (("unrated_sections",), unrated),
        )
    )


def cycle_facts(cycle: Cycle, now: datetime) -> dict[str, Any]:
    """Facts for every Cycle guard, all computed (see `lazy_cycle_facts`)."""
    return dict(lazy_cycle_facts(cycle, now))


def lazy_cycle_facts(cycle: Cycle, now: datetime) -> LazyFacts:
    """Facts for every Cycle guard, computed when first read."""

    def counts() -> dict[str, Any]:
        by_status = dict(
            db.session.execute(
                select(Review.status, func.count(Review.id))
                .where(Review.cycle_id == cycle.id)
                .group_by(Review.status)
            ).all()
        )
        finished = by_status.get(ReviewStatus.CLOSED, 0) + by_status.get(ReviewStatus.WITHDRAWN, 0)
        return {
            "review_count": sum(by_status.values()),
            "unfinished_reviews": sum(by_status.values()) - finished,
        }

    def unfinished_states() -> dict[str, Any]:
        names = db.session.scalars(
            select(State.name)
            .join(Review, Review.state_id == State.id)
            .where(
                Review.cycle_id == cycle.id,
                Review.status.not_in([ReviewStatus.CLOSED, ReviewStatus.WITHDRAWN]),
            )
            .order_by(State.name)
            .limit(10)
        ).all()
        return {"unfinished_states": names}

    return LazyFacts(
        _grouped(
            (("has_framework",), lambda: {"has_framework": cycle.framework_id is not None}),
            (("review_count", "unfinished_reviews"), counts),
            (("unfinished_states",), unfinished_states),
        )
    )


FACTS: dict[str, Callable[[Any, datetime], LazyFacts]] = {
    "review": lazy_review_facts,
    "assignment": lazy_assignment_facts,
    "cycle": lazy_cycle_facts,
}


# --- side effects of events, applied in the same transaction -------------------------------


def _nothing(subject: Any, actor: User, reason: str, now: datetime) -> None:
    return None


def _set_report(review: Review, **values: Any) -> None:
    """Set columns of ``review``'s report, if it has one (one UPDATE, no read)."""
    db.session.execute(
        update(Report)
        .where(Report.review_id == review.id)
        .values(**values)
        .execution_options(synchronize_session=False)  # the commit that follows expires all
    )


def _close_open_assignments(review: Review, actor: User, why: str, now: datetime) -> int:
    """Cascade (DESIGN §4): withdraw the review's invited and accepted assignments, one
    TransitionLog row each, in the caller's transaction; return how many were closed."""
    open_ones = db.session.scalars(
        select(Assignment)
        .where(
            Assignment.review_id == review.id,
            Assignment.status.in_([AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED]),
        )
        .with_for_update()
    ).all()
    for assignment in open_ones:
        before = str(assignment.status)
        assignment.status = AssignmentStatus.WITHDRAWN
        db.session.add(
            TransitionLog(
                subject_type="assignment",
                subject_id=assignment.id,
                event="withdraw_assignment",
                from_state=before,
                to_state=AssignmentStatus.WITHDRAWN,
                actor_id=actor.id,
                created_at=now,
                reason=why,
                payload={"cascade": True, "review_id": review.id},
            )
        )
    return len(open_ones)


def _draft_submitted(review: Review, actor: User, reason: str, now: datetime) -> None:
    _set_report(review, submitted_at=now)
    _close_open_assignments(
        review, actor, "Closed automatically: the review left the evaluation phase.", now
    )


def _review_withdrawn(review: Review, actor: User, reason: str, now: datetime) -> None:
    _close_open_assignments(review, actor, "Closed automatically: the review was withdrawn.", now)


def _self_assessment_submitted(review: Review, actor: User, reason: str, now: datetime) -> None:
    """Freeze the submitted answers as the review's next numbered version (issue 16)."""
    from app.services.sa_versions import freeze

    freeze(review, actor, now)


def _report_adopted(review: Review, actor: User, reason: str, now: datetime) -> None:
    _set_report(review, adopted_at=now)


def _set_evaluation(assignment: Assignment, **values: Any) -> None:
    """Set columns of ``assignment``'s evaluation, if it has one (one UPDATE, no read)."""
    db.session.execute(
        update(Evaluation)
        .where(Evaluation.assignment_id == assignment.id)
        .values(**values)
        .execution_options(synchronize_session=False)  # the commit that follows expires all
    )


def _accepted(assignment: Assignment, actor: User, reason: str, now: datetime) -> None:
    assignment.no_conflict_declared_at = now


def _declined(assignment: Assignment, actor: User, reason: str, now: datetime) -> None:
    assignment.decline_reason = reason.strip()


def _conflicted(assignment: Assignment, actor: User, reason: str, now: datetime) -> None:
    assignment.conflict_details = reason.strip()


def _evaluation_submitted(assignment: Assignment, actor: User, reason: str, now: datetime) -> None:
    _set_evaluation(assignment, submitted_at=now)


def _evaluation_returned(assignment: Assignment, actor: User, reason: str, now: datetime) -> None:
    _set_evaluation(assignment, submitted_at=None)


def _cycle_opened(cycle: Cycle, actor: User, reason: str, now: datetime) -> None:
    """Carry each state's unimplemented recommendations of its previous review (issue 5), and
    close into the new review each previous review still in follow-up (issue 16, item 8)."""
    from app.services.carry_over import carry_into_cycle

    carry_into_cycle(cycle, actor)


#: Statuses of a previous review whose follow-up is closed into the state's next review.
FOLLOWED_UP = (ReviewStatus.FOLLOW_UP, ReviewStatus.ENHANCED_FOLLOW_UP)


def close_into_next_cycle(
    previous: Review, into: Review, actor: User | None, carried: int
) -> TransitionLog:
    """Close ``previous`` (in follow-up or enhanced follow-up) into ``into``, the same state's
    review in a later, open cycle, in the caller's transaction (no commit): the event
    ``close_into_next_cycle`` is fired through the review lifecycle (its guard reads the open
    cycle), one `TransitionLog` row records it (reason naming the new cycle; payload: the new
    review's and cycle's ids, the cycle's name and ``carried``, the number of recommendations
    carried over now), and the notification rules queue its e-mails. ``actor`` None: the
    command line. Rule: issue 16, item 8 — a recommendation is never tracked in two open
    reviews; its progress is reported in the new review only.

    Raises:
        workflows.InvalidTransition: ``previous`` is not in follow-up.
        workflows.TransitionRefused: ``into``'s cycle is not open.
    """
    now = clock.now()
    cycle = into.cycle
    before = str(previous.status)
    facts = {"next_cycle": cycle.name if cycle.status == "open" else None, "now": now}
    after = REVIEW.fire(before, "close_into_next_cycle", facts)
    previous.status = ReviewStatus(after)
    previous.status_changed_at = now
    reason = f"Follow-up closed into the review of the {cycle.name}."
    log = TransitionLog(
        subject_type="review",
        subject_id=previous.id,
        event="close_into_next_cycle",
        from_state=before,
        to_state=after,
        actor_id=actor.id if actor is not None else None,
        created_at=now,
        reason=reason,
        payload={
            "into_review_id": into.id,
            "cycle_id": cycle.id,
            "cycle_name": cycle.name,
            "carried": carried,
        },
    )
    db.session.add(log)
    notification_rules.notify("review", "close_into_next_cycle", previous, reason)
    return log


def _enhanced(step: str) -> Callable[[Review, User, str, datetime], None]:
    """The enhanced follow-up procedure's side effect ``step`` (issue 17): rounds, decisions and
    the progress deadline they set (`app.services.enhanced_follow_up`)."""

    def run(review: Review, actor: User, reason: str, now: datetime) -> None:
        from app.services import enhanced_follow_up

        getattr(enhanced_follow_up, step)(review, actor, reason, now)

    return run


SIDE_EFFECTS: dict[tuple[str, str], Callable[[Any, User, str, datetime], None]] = {
    ("review", "escalate"): _enhanced("escalated"),
    ("review", "deescalate"): _enhanced("deescalated"),
    ("review", "hold_another_round"): _enhanced("another_round"),
    ("review", "give_formal_notice"): _enhanced("formal_notice"),
    ("cycle", "open_cycle"): _cycle_opened,
    ("review", "submit_self_assessment"): _self_assessment_submitted,
    ("review", "submit_draft_report"): _draft_submitted,
    ("review", "adopt_report"): _report_adopted,
    ("review", "withdraw"): _review_withdrawn,
    ("assignment", "accept"): _accepted,
    ("assignment", "decline"): _declined,
    ("assignment", "declare_conflict"): _conflicted,
    ("assignment", "submit_evaluation"): _evaluation_submitted,
    ("assignment", "return_evaluation"): _evaluation_returned,
}


def refusal_text(refusal: Refusal) -> str:
    """``refusal`` in the reader's language (Flask-Babel); a counted message takes the singular
    or plural form its count needs ("1 recommendation has", "3 recommendations have")."""
    return refusal.render(_, get_translations().ngettext)
