"""Enhanced follow-up as a procedure (issue 17; DESIGN §4; GRECO's non-compliance procedure and
FATF's regular vs enhanced follow-up): the rounds, the progress deadlines they set, and the
automatic proposal to enter it.

The workflow steps themselves (``escalate``, ``hold_another_round``, ``give_formal_notice``,
``deescalate``) are Review transitions fired through `app.services.transitions.apply_transition`;
the functions here are their side effects, run in the same transaction: a round is opened with
its progress deadline (the cycle's enhanced interval, default 6 months), ended with the
secretariat's decision, and the review's ``follow_up`` deadline moved (back to the regular
interval, default 12 months, on return). Deadlines are the end of the day in the cycle's zone,
stored in UTC. `propose_due` runs in the reminder pass: at a passed progress deadline of a review
in regular follow-up, when the share of its supported recommendations whose latest assessment is
"not implemented" reaches the cycle's threshold, it records one proposal (idempotent per deadline)
and tells the secretariat, who decides with ``escalate``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Assessment,
    AssessmentStatus,
    EnhancedProposal,
    EnhancedRound,
    Recommendation,
    Response,
    ResponsePosition,
    Review,
    ReviewDeadline,
    User,
)
from app.models.action_plan import RoundDecision
from app.services import clock
from app.services.action_plan import add_months
from app.services.latest import latest_per_recommendation
from workflows import ReviewStatus

#: The review stage whose deadline is the next progress report.
STAGE = "follow_up"


def interval_deadline(review: Review, months: int, now: datetime) -> datetime:
    """The end of the day ``months`` months after ``now``'s date in the cycle's zone (aware UTC)."""
    zone = review.cycle.time_zone
    day = add_months(now.astimezone(ZoneInfo(zone)).date(), months)
    return clock.end_of_day(day, zone)


def set_progress_deadline(review: Review, due_at: datetime) -> None:
    """Set (or create) the review's ``follow_up`` stage deadline to ``due_at``; flush."""
    row = db.session.scalar(
        select(ReviewDeadline).where(
            ReviewDeadline.review_id == review.id, ReviewDeadline.stage == STAGE
        )
    )
    if row is None:
        db.session.add(ReviewDeadline(review_id=review.id, stage=STAGE, due_at=due_at))
    else:
        row.due_at = due_at
    db.session.flush()


def open_round(review: Review, actor: User, reason: str, now: datetime) -> EnhancedRound:
    """Open the next round of enhanced follow-up and set the progress deadline it gives."""
    number = (
        db.session.scalar(
            select(func.max(EnhancedRound.number)).where(EnhancedRound.review_id == review.id)
        )
        or 0
    ) + 1
    due_at = interval_deadline(review, review.cycle.enhanced_interval_months, now)
    record = EnhancedRound(
        review_id=review.id,
        number=number,
        started_at=now,
        due_at=due_at,
        reason=reason.strip(),
        started_by_id=actor.id,
    )
    db.session.add(record)
    set_progress_deadline(review, due_at)
    return record


def current_round(review: Review) -> EnhancedRound | None:
    """The review's open round (no decision yet), if any."""
    return db.session.scalar(
        select(EnhancedRound)
        .where(EnhancedRound.review_id == review.id, EnhancedRound.decision.is_(None))
        .order_by(EnhancedRound.number.desc())
        .limit(1)
    )


def rounds_of(review: Review) -> list[EnhancedRound]:
    """Every round of the review, oldest first."""
    return list(
        db.session.scalars(
            select(EnhancedRound)
            .where(EnhancedRound.review_id == review.id)
            .order_by(EnhancedRound.number)
        )
    )


def _decide(review: Review, decision: RoundDecision, actor: User, reason: str, now: datetime):
    """Record ``decision`` on the open round (a round is opened first if none is, so that a
    review moved into enhanced follow-up by other means still gets a dated record)."""
    record = current_round(review) or open_round(review, actor, "", now)
    record.decision = decision
    record.decision_reason = reason.strip()
    record.decided_at = now
    record.decided_by_id = actor.id
    db.session.flush()


def escalated(review: Review, actor: User, reason: str, now: datetime) -> None:
    """Side effect of ``escalate``: settle open proposals, open round 1 (or the next)."""
    for proposal in db.session.scalars(
        select(EnhancedProposal).where(
            EnhancedProposal.review_id == review.id, EnhancedProposal.settled_at.is_(None)
        )
    ):
        proposal.settled_at = now
    open_round(review, actor, reason, now)


def deescalated(review: Review, actor: User, reason: str, now: datetime) -> None:
    """Side effect of ``deescalate``: end the round; the next progress report is due after the
    regular interval."""
    _decide(review, RoundDecision.BACK_TO_REGULAR, actor, reason, now)
    set_progress_deadline(
        review, interval_deadline(review, review.cycle.regular_interval_months, now)
    )


def another_round(review: Review, actor: User, reason: str, now: datetime) -> None:
    """Side effect of ``hold_another_round``: end the round, open the next."""
    _decide(review, RoundDecision.ANOTHER_ROUND, actor, reason, now)
    open_round(review, actor, reason, now)


def formal_notice(review: Review, actor: User, reason: str, now: datetime) -> None:
    """Side effect of ``give_formal_notice``: end the round with the notice (dated, announced by
    the notification rules), and continue with a new round."""
    _decide(review, RoundDecision.FORMAL_NOTICE, actor, reason, now)
    open_round(review, actor, reason, now)


# --- automatic proposal ------------------------------------------------------------------------


def not_implemented_share(review_id: int) -> tuple[int, int]:
    """(supported recommendations whose latest assessment is "not implemented", supported
    recommendations) of the review. Two queries."""
    supported = list(
        db.session.scalars(
            select(Recommendation.id)
            .join(Response, Response.recommendation_id == Recommendation.id)
            .where(
                Recommendation.review_id == review_id,
                Response.position == ResponsePosition.SUPPORTED,
            )
        )
    )
    if not supported:
        return 0, 0
    latest = latest_per_recommendation(Assessment, among=supported, name="latest_for_share")
    statuses = db.session.scalars(
        select(Assessment.status).join(latest, latest.c.id == Assessment.id)
    )
    return sum(1 for s in statuses if s == AssessmentStatus.NOT_IMPLEMENTED), len(supported)


def open_proposal(review: Review) -> EnhancedProposal | None:
    """The review's proposal not yet acted on, if any."""
    return db.session.scalar(
        select(EnhancedProposal)
        .where(EnhancedProposal.review_id == review.id, EnhancedProposal.settled_at.is_(None))
        .order_by(EnhancedProposal.id.desc())
        .limit(1)
    )


def propose_due(now: datetime | None = None, *, dry_run: bool = False) -> list[EnhancedProposal]:
    """Record a proposal for each review in regular follow-up whose progress deadline has passed
    and whose not-implemented share (percent, rounded down) reaches its cycle's threshold; once
    per deadline (a second run finds the proposal and adds nothing). Queues an in-app and e-mail
    notice to every active secretariat account. Flushes; returns the new proposals."""
    from app.services import notifications
    from app.services.reminders import active_secretariat

    now = now or clock.now()
    rows = db.session.execute(
        select(Review, ReviewDeadline.due_at)
        .join(ReviewDeadline, ReviewDeadline.review_id == Review.id)
        .where(
            Review.status == ReviewStatus.FOLLOW_UP,
            ReviewDeadline.stage == STAGE,
            ReviewDeadline.due_at <= now,
        )
    ).all()
    made = []
    for review, due_at in rows:
        failing, supported = not_implemented_share(review.id)
        if not supported:
            continue
        share = failing * 100 // supported
        threshold = review.cycle.not_implemented_threshold
        if share < threshold:
            continue
        exists = db.session.scalar(
            select(EnhancedProposal.id).where(
                EnhancedProposal.review_id == review.id, EnhancedProposal.deadline_at == due_at
            )
        )
        if exists is not None:
            continue
        proposal = EnhancedProposal(
            review_id=review.id,
            deadline_at=due_at,
            share=share,
            threshold=threshold,
            proposed_at=now,
        )
        made.append(proposal)
        if dry_run:
            continue
        db.session.add(proposal)
        db.session.flush()
        for user in active_secretariat():
            notifications.queue(
                user,
                "enhanced_proposed",
                template="enhanced_proposed",
                context={
                    "state_name": review.state.name,
                    "cycle_name": review.cycle.name,
                    "share": share,
                    "threshold": threshold,
                    "link": f"/reviews/{review.id}/action-plan",
                },
                review=review,
                dedupe_key=f"enhanced-proposal:{review.id}:{due_at.isoformat()}:{user.id}",
            )
    return made
