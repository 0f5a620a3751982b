"""Forms of the action plan pages and the display labels of its scales (issue 17)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Optional

MEASURE_STATUS_LABELS = {
    "planned": _l("Planned"),
    "ongoing": _l("Ongoing"),
    "completed": _l("Completed"),
    "delayed": _l("Delayed"),
    "cancelled": _l("Cancelled"),
}
FREQUENCY_LABELS = {
    "monthly": _l("Monthly"),
    "quarterly": _l("Quarterly"),
    "semiannual": _l("Every six months"),
    "annual": _l("Yearly"),
}
DECISION_LABELS = {
    "back_to_regular": _l("Back to regular follow-up"),
    "another_round": _l("Another enhanced round"),
    "formal_notice": _l("Formal notice — the plenary will discuss compliance"),
}


def choices(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MeasureForm(FlaskForm):
    title = StringField(_l("Title"))
    description = TextAreaField(_l("Description"))
    recommendations = CheckboxList(_l("Recommendations this measure answers"), coerce=int)
    lead_institution = SelectField(_l("Lead institution"), coerce=str, validate_choice=False)
    contributors = CheckboxList(_l("Contributing institutions"), coerce=int, validate_choice=False)
    start_date = DateField(_l("Start date"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    budget_line = StringField(_l("Budget line"), description=_l("Optional. Never published."))
    status = SelectField(
        _l("Status"), choices=choices(MEASURE_STATUS_LABELS.items()), default="planned"
    )
    cancel_reason = TextAreaField(_l("Reason for the cancellation"))
    version = HiddenField()
    submit = SubmitField(_l("Save measure"))


class InstitutionForm(FlaskForm):
    name = StringField(_l("New institution"))
    submit = SubmitField(_l("Add to the list"))


class IndicatorForm(FlaskForm):
    name = StringField(_l("Indicator"))
    unit = StringField(_l("Unit"), description=_l("For example: cases, %, trained officers."))
    baseline = StringField(_l("Baseline"))
    target = StringField(_l("Target"))
    frequency = SelectField(
        _l("Reporting frequency"), choices=choices(FREQUENCY_LABELS.items()), default="annual"
    )
    submit = SubmitField(_l("Add indicator"))


class MilestoneForm(FlaskForm):
    title = StringField(_l("Milestone"))
    due_date = DateField(_l("Date"), validators=[Optional()])
    submit = SubmitField(_l("Add milestone"))


class ProgressForm(FlaskForm):
    narrative = TextAreaField(_l("What has been done"))
    status = SelectField(
        _l("Status of the measure now"),
        choices=choices((k, v) for k, v in MEASURE_STATUS_LABELS.items() if k != "cancelled"),
    )
    measured_on = DateField(_l("Values as of"), validators=[Optional()])
    milestones = CheckboxList(_l("Milestones completed"), coerce=int, validate_choice=False)
    version = HiddenField()
    submit = SubmitField(_l("Record progress"))
