"""Changing a review's stage deadline, with a reason, on the record (DESIGN §8).

A deadline is an instant stored in UTC and entered in the cycle's IANA zone: a date alone means the
end of that day there (23:59:59, `clock.end_of_day`); a date with a time means that local time.
Every change writes one `DeadlineChange` row (old, new, who, when, reason). Saving the same form
again changes nothing and writes nothing, so a double submission never moves a deadline twice.
Like every service, this flushes and never commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import DeadlineChange, Review, ReviewDeadline, User
from app.services import clock
from app.services.cycles import START_YEARS, SetupError
from workflows import ReviewStatus
from workflows.base import has_words


class DeadlineMoved(SetupError):
    """Someone changed this deadline since the form was shown (the caller answers 409)."""


class DeadlineInPast(SetupError):
    """The new deadline is already past: it would be overdue at once. Refused unless the actor
    confirmed it (``allow_past``), so a mistyped year is not saved unseen."""


def local_instant(day: date, at: time | None, zone: str) -> datetime:
    """The aware UTC instant of ``day`` (and ``at``, local wall-clock time) in IANA ``zone``.

    Without ``at``: the last second of ``day`` there (`clock.end_of_day`). With ``at``: that wall
    time; on the night clocks go back, a time that happens twice means its first occurrence.

    Raises:
        SetupError: the year is outside `START_YEARS`, or ``at`` does not exist that day in
            ``zone`` (skipped when clocks go forward).
    """
    if day.year not in START_YEARS:
        raise SetupError(
            _(
                "The date must be between %(first)d and %(last)d.",
                first=START_YEARS.start,
                last=START_YEARS.stop - 1,
            )
        )
    if at is None:
        return clock.end_of_day(day, zone)
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise SetupError(
            _(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward that "
                "night. Choose another time.",
                time=at.strftime("%H:%M"),
                day=day.isoformat(),
                zone=zone,
            )
        )
    return instant


def change_deadline(
    actor: User,
    review: Review,
    stage: str,
    day: date,
    at: time | None,
    reason: str,
    *,
    expected_due_at: datetime | None = None,
    allow_past: bool = False,
) -> DeadlineChange | None:
    """Move ``review``'s ``stage`` deadline to ``day`` (``at``) in the cycle's zone.

    ``expected_due_at`` is the instant the actor saw on the form (aware); if the deadline has moved
    since to something else than what they ask for, `DeadlineMoved` is raised rather than
    overwriting a change nobody saw. A deadline at or before `clock.now()` is refused with
    `DeadlineInPast` unless ``allow_past`` (the actor ticked "yes, in the past").

    Returns the `DeadlineChange` written, or None when the deadline already is at that instant
    (nothing changed, nothing recorded).

    Raises:
        SetupError: no such stage on the review, the review is closed or withdrawn, no reason,
            or a date/time that `local_instant` refuses.
        DeadlineMoved: the deadline changed since the form was shown.
        DeadlineInPast: the new instant is not in the future and ``allow_past`` is false.
    """
    if review.status in (ReviewStatus.CLOSED, ReviewStatus.WITHDRAWN):
        raise SetupError(_("The review is closed or withdrawn: its deadlines no longer change."))
    deadline = db.session.scalar(
        select(ReviewDeadline)
        .where(ReviewDeadline.review_id == review.id, ReviewDeadline.stage == stage)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if deadline is None:
        raise SetupError(_("This review has no such deadline."))
    new_due_at = local_instant(day, at, review.cycle.time_zone)
    if new_due_at == deadline.due_at:
        return None
    if expected_due_at is not None and expected_due_at != deadline.due_at:
        raise DeadlineMoved(
            _("Someone changed this deadline while you were editing it; see its new value.")
        )
    if not has_words(reason):
        raise SetupError(_("Please give a reason for the change."))
    if new_due_at <= clock.now() and not allow_past:
        raise DeadlineInPast(
            _(
                "This date is already past: the stage would be overdue at once. Check the year; "
                "to set it all the same, tick the confirmation and save again."
            )
        )
    change = DeadlineChange(
        review_id=review.id,
        stage=stage,
        old_due_at=deadline.due_at,
        new_due_at=new_due_at,
        changed_by_id=actor.id,
        changed_at=clock.now(),
        reason=reason.strip(),
    )
    deadline.due_at = new_due_at
    db.session.add(change)
    db.session.flush()
    return change


def changes_of(review: Review) -> list[DeadlineChange]:
    """The review's deadline changes, oldest first, with who made them (one query)."""
    return list(
        db.session.scalars(
            select(DeadlineChange)
            .where(DeadlineChange.review_id == review.id)
            .options(joinedload(DeadlineChange.changed_by))
            .order_by(DeadlineChange.changed_at, DeadlineChange.id)
        )
    )
