"""Forms of pillar-two assistance: requests, offers, decisions, notes, evaluations, partner
accounts. Choices from the database (sections, recommendations) are filled in by the route."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from app.models import AREA_LABELS, PURPOSE_CODES, AssistanceArea, OfferKind
from app.web.forms import optional_int

OFFER_KIND_LABELS = {
    OfferKind.FUNDING: _l("Funding"),
    OfferKind.EXPERTISE: _l("Expertise"),
    OfferKind.TRAINING: _l("Training"),
    OfferKind.EQUIPMENT: _l("Equipment"),
}


def area_choices():
    return [SelectChoice(a.value, _l(AREA_LABELS[a])) for a in AssistanceArea]


def purpose_choices():
    return [SelectChoice("", _l("The area's usual code"))] + [
        SelectChoice(k, _l(v)) for k, v in PURPOSE_CODES.items()
    ]


class RequestForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    area = SelectField(_l("Area"), choices=area_choices)
    purpose_code = SelectField(
        _l("OECD DAC purpose code"),
        choices=purpose_choices,
        description=_l("The sector code donors' own systems use (IATI Sector codelist)."),
    )
    section = SelectField(_l("Framework section"), coerce=optional_int, validate_choice=False)
    need = TextAreaField(
        _l("The need, in the state's own words"), validators=[DataRequired()], render_kw={"rows": 5}
    )
    shared_details = TextAreaField(
        _l("What the state shares with partners"),
        description=_l(
            "Context, documents or contacts partners may see once the request is shared."
        ),
        render_kw={"rows": 3},
    )
    recommendations = SelectMultipleField(
        _l("Linked recommendations"), coerce=int, validate_choice=False
    )
    submit = SubmitField(_l("Save request"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2})
    submit = SubmitField(_l("Withdraw from partners"))


class OfferForm(FlaskForm):
    kind = RadioField(
        _l("Kind of support"),
        choices=[SelectChoice(k.value, v) for k, v in OFFER_KIND_LABELS.items()],
    )
    description = TextAreaField(
        _l("What you offer"), validators=[DataRequired()], render_kw={"rows": 4}
    )
    safeguards = TextAreaField(
        _l("Safeguards against misuse"),
        description=_l("Required for equipment: end-use controls, vetting, monitoring."),
        render_kw={"rows": 3},
    )
    amount = DecimalField(
        _l("Amount (optional)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    currency = StringField(_l("Currency"), validators=[Length(max=3)], default="")
    starts_on = DateField(_l("Start date"), validators=[Optional()])
    ends_on = DateField(_l("End date"), validators=[Optional()])
    submit = SubmitField(_l("Send offer"))


class DecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("accept", _l("Accept")), SelectChoice("decline", _l("Decline"))],
    )
    reason = TextAreaField(
        _l("Reason"), description=_l("Required when declining."), render_kw={"rows": 2}
    )
    starts_on = DateField(_l("Programme start"), validators=[Optional()])
    ends_on = DateField(_l("Programme end"), validators=[Optional()])
    submit = SubmitField(_l("Record decision"))


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Progress note"), validators=[DataRequired()], render_kw={"rows": 3})
    submit = SubmitField(_l("Add note"))


class CompleteForm(FlaskForm):
    submit = SubmitField(_l("Mark the programme completed"))


class ShareForm(FlaskForm):
    submit = SubmitField(_l("Share with partners"))


class EvaluationForm(FlaskForm):
    what_was_done = TextAreaField(_l("What was done"), validators=[DataRequired()])
    outcomes = TextAreaField(_l("Outcomes observed"), validators=[DataRequired()])
    what_worked = TextAreaField(_l("What worked"), validators=[DataRequired()])
    what_did_not = TextAreaField(_l("What did not work"), validators=[DataRequired()])
    would_repeat = BooleanField(_l("We would do it again"))
    consent_to_publish = BooleanField(
        _l("We consent to publishing this evaluation in the public good-practice library"),
        description=_l("It is published only when both the state and the partner consent."),
    )
    submit = SubmitField(_l("Save evaluation"))


class OrganisationAccountForm(FlaskForm):
    """A partner or stakeholder account created by the secretariat."""

    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=200)])
    organisation = StringField(_l("Organisation"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind of organisation"), validate_choice=False)
    submit = SubmitField(_l("Create account"))
