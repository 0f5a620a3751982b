"""Forms of the secretariat's administration screens: accounts, cycles, states, review teams.

Choices that come from the database (states, frameworks, reviewers) are filled in by the route.
Selects of database rows do not check the posted value against the rendered choices: a value
that went stale meanwhile reaches the service, whose refusal says why in words. Display names and
passwords are checked here with the service's own rules, so the message appears at the field.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from app.models import ORGANISATION_ROLES, ROLE_LABELS, Cycle, Role
from app.services.admin import check_display_name, check_password
from app.services.cycles import IANA_ZONES, MAX_STAGE_DAYS, SetupError, check_time_zone
from app.web.forms import bounded_int, optional_int
from workflows.base import has_words


def role_choices(include_organisations: bool = False) -> list[SelectChoice]:
    """Roles of the account form; partners and stakeholders have their own pages (issue 18)
    and appear only in the list's filter (``include_organisations``)."""
    return [
        SelectChoice(role.value, _l(ROLE_LABELS[role]))
        for role in Role
        if include_organisations or role not in ORGANISATION_ROLES
    ]


def model_default(column: str) -> int:
    """The default of a `Cycle` column, so the form proposes what the model would store."""
    return Cycle.__table__.c[column].default.arg


#: IANA zone names offered as suggestions beside the time-zone box.
TIME_ZONES = sorted(IANA_ZONES)

STATE_HELP = _l("Required for focal points and peer reviewers; not used for the secretariat.")


#: A password manager must not fill a password chosen for someone else with the secretariat
#: member's own saved password.
NEW_PASSWORD = {"autocomplete": "new-password"}


def _readable_name(form, field) -> None:
    try:
        field.data = check_display_name(field.data or "")
    except SetupError as error:
        raise ValidationError(str(error)) from None


def _visible_password(form, field) -> None:
    email = getattr(form, "account_email", None) or getattr(
        getattr(form, "email", None), "data", None
    )
    try:
        check_password(field.data or "", email)
    except SetupError as error:
        raise ValidationError(str(error)) from None


def _empty_keeps_password(form, field) -> None:
    """Stop validating an empty new password (keep the current one). Unlike WTForms' Optional,
    a password of spaces is not "empty": it goes on to `_visible_password` and is refused."""
    if not field.data:
        field.errors[:] = []
        raise StopValidation()


def _state_required(form, field) -> None:
    if form.role.data != Role.SECRETARIAT and field.data is None:
        raise ValidationError(
            _l("A focal point or peer reviewer belongs to exactly one state: choose it.")
        )


class UserCreateForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Email(message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    display_name = StringField(
        _l("Display name"),
        validators=[DataRequired(), Length(max=200), _readable_name],
        description=_l("As the person writes it, in any script."),
    )
    role = SelectField(_l("Role"), choices=role_choices, coerce=Role, default=Role.FOCAL_POINT)
    state = SelectField(
        _l("State"),
        coerce=optional_int,
        validate_choice=False,
        validators=[_state_required],
        description=STATE_HELP,
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[_empty_keeps_password, _visible_password],
        description=_l(
            "Leave empty to get a link (valid 48 hours, usable once) with which the person sets "
            "their own password. Or type at least 12 characters and give them by a separate "
            "channel."
        ),
        render_kw=NEW_PASSWORD,
    )
    submit = SubmitField(_l("Create account"))


class UserEditForm(FlaskForm):
    """The account form; ``base_version`` is the `account_version` it was rendered from."""

    base_version = HiddenField()
    display_name = StringField(
        _l("Display name"), validators=[DataRequired(), Length(max=200), _readable_name]
    )
    role = SelectField(_l("Role"), choices=role_choices, coerce=Role)
    state = SelectField(
        _l("State"),
        coerce=optional_int,
        validate_choice=False,
        validators=[_state_required],
        description=STATE_HELP,
    )
    active = BooleanField(
        _l("Active (may sign in)"),
        description=_l("Accounts are deactivated, never deleted: their history is kept."),
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[_empty_keeps_password, _visible_password],
        description=_l("Leave empty to keep the current password."),
        render_kw=NEW_PASSWORD,
    )
    submit = SubmitField(_l("Save changes"))


class UserFilterForm(FlaskForm):
    """The filters above the list of accounts (a GET form: no CSRF token).

    Filters are links people edit and share: a value that is not one of the choices is ignored
    with a message at its field, never an error page.
    """

    class Meta:
        csrf = False

    def chosen(self) -> tuple[Role | None, int | None, bool | None]:
        """The (role, state id, active) to filter by, None for "any"; a value that is not one
        of the choices (set the state choices first) is ignored and gets a message at its field."""
        ignored = _("This value is not one of the choices; the filter was ignored.")
        role = state_id = active = None
        if self.role.data:
            try:
                role = Role(self.role.data)
            except ValueError:
                self.role.errors = [ignored]
        if self.state.data:
            try:
                state_id = bounded_int(self.state.data)
            except ValueError:
                state_id = None
            if state_id not in {choice.value for choice in self.state.choices}:
                state_id, self.state.errors = None, [ignored]
        if self.active.data:
            active = {"1": True, "0": False}.get(self.active.data)
            if active is None:
                self.active.errors = [ignored]
        return role, state_id, active

    q = StringField(_l("Name or e-mail contains"))
    role = SelectField(_l("Role"), validate_choice=False)
    state = SelectField(_l("State"), validate_choice=False)
    active = SelectField(
        _l("Account"),
        choices=[
            SelectChoice("", _l("Active and deactivated")),
            SelectChoice("1", _l("Active")),
            SelectChoice("0", _l("Deactivated")),
        ],
        validate_choice=False,
    )


def _known_time_zone(form, field) -> None:
    try:
        field.data = check_time_zone((field.data or "").strip())
    except SetupError as error:
        hint = _l("Use an IANA name such as Africa/Nairobi or America/New_York.")
        raise ValidationError(f"{error}. {hint}") from None


def _days(label, column: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_STAGE_DAYS)],
        default=model_default(column),
    )


class CycleForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=120)],
        description=_l('For example "2027 cycle".'),
    )
    framework = SelectField(
        _l("Framework version"), coerce=optional_int, validators=[InputRequired()]
    )
    starts_on = DateField(_l("Start date"), validators=[InputRequired()])
    time_zone = StringField(
        _l("Time zone (IANA)"),
        default="UTC",
        validators=[DataRequired(), _known_time_zone],
        description=_l("Deadlines end at 23:59:59 in this zone."),
    )
    self_assessment_days = _days(_l("Self-assessment (days)"), "self_assessment_days")
    evaluation_days = _days(_l("Evaluation (days)"), "evaluation_days")
    factual_check_days = _days(_l("Factual check (days)"), "factual_check_days")
    response_days = _days(_l("Response (days)"), "response_days")
    follow_up_days = _days(_l("Follow-up: first progress report (days)"), "follow_up_days")
    team_size = IntegerField(
        _l("Reviewers per review team"),
        validators=[InputRequired(), NumberRange(min=1, max=7)],
        default=model_default("team_size"),
    )
    # follow-up reporting (issue 17; FATF regular vs enhanced follow-up)
    regular_interval_months = IntegerField(
        _l("Regular follow-up: months between progress reports"),
        validators=[Optional(), NumberRange(min=1, max=60)],
        default=model_default("regular_interval_months"),
    )
    enhanced_interval_months = IntegerField(
        _l("Enhanced follow-up: months between progress reports"),
        validators=[Optional(), NumberRange(min=1, max=60)],
        default=model_default("enhanced_interval_months"),
    )
    not_implemented_threshold = IntegerField(
        _l("Threshold for proposing enhanced follow-up (%)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        default=model_default("not_implemented_threshold"),
        description=_l(
            'Share of supported recommendations assessed "not implemented" at a progress deadline.'
        ),
    )
    submit = SubmitField(_l("Create cycle"))


class AddStatesForm(FlaskForm):
    states = SelectMultipleField(
        _l("States to add"),
        coerce=bounded_int,
        validate_choice=False,
        validators=[DataRequired(message=_l("Choose at least one state to add."))],
        description=_l("Hold Ctrl (Cmd on a Mac) to choose several states at once."),
    )
    submit = SubmitField(_l("Add to the cycle"))


def _has_words(form, field) -> None:
    if not has_words(field.data):
        raise ValidationError(_l("Please give the justification."))


class AssignReviewerForm(FlaskForm):
    reviewer = SelectField(
        _l("Peer reviewer"),
        coerce=optional_int,
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a peer reviewer."))],
    )
    is_lead = BooleanField(_l("Lead reviewer (drafts the report)"))
    justification = TextAreaField(
        _l("Justification"),
        validators=[DataRequired(message=_l("Please give the justification.")), _has_words],
        description=_l(
            "Why this reviewer (expertise, languages, availability); recorded in the history."
        ),
    )
    submit = SubmitField(_l("Invite reviewer"))
