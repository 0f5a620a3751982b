"""The deadline form of the review page: one per stage, entered in the cycle's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SubmitField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from app.models import ReviewDeadline


class DeadlineForm(FlaskForm):
    """``day`` (and optional ``at``) are local to the cycle's zone; ``expected`` is the ISO UTC
    instant the form was shown with, so a concurrent change is noticed (409)."""

    day = DateField(_l("New date"), validators=[InputRequired()])
    at = TimeField(
        _l("Time (optional)"),
        validators=[Optional()],
        description=_l("Leave empty for the end of the day (23:59:59)."),
    )
    reason = TextAreaField(
        _l("Reason for the change (kept on the record)"),
        validators=[InputRequired(), Length(max=2000)],
    )
    expected = HiddenField()
    #: Shown only after a refusal because the date is past (`deadlines.DeadlineInPast`).
    confirm_past = BooleanField(_l("Yes, set this deadline in the past (overdue at once)"))
    submit = SubmitField(_l("Change deadline"))

    #: A refusal from the service (bad date, no reason, moved meanwhile), shown above the form.
    refusal: str = ""
    #: True when the refusal asks to confirm a past date: the template shows ``confirm_past``.
    asks_past_confirmation: bool = False

    def expected_instant(self) -> datetime | None:
        """The posted ``expected`` as an aware UTC instant, or None if absent or unreadable."""
        try:
            value = datetime.fromisoformat(self.expected.data or "")
        except ValueError:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def deadline_form(deadline: ReviewDeadline, zone: str) -> DeadlineForm:
    """A blank-reason form with ``deadline``'s date in ``zone`` and an empty time.

    The time is never pre-filled: the field says "leave empty for the end of the day", so a
    person changing only the date gets 23:59:59 local, not the old deadline's time kept unseen
    (the current deadline, time included, is shown beside the form).
    """
    local = deadline.due_at.astimezone(ZoneInfo(zone))
    form = DeadlineForm(formdata=None, prefix=deadline.stage, day=local.date())
    form.expected.data = deadline.due_at.isoformat()
    return form
