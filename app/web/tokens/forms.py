"""The form that creates a personal access token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.services.api_tokens import LIFETIMES_DAYS

SCOPE_LABELS = {
    "read": _l("Read: what you can see on the pages"),
    "write": _l("Write: post progress updates"),
}


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the token a name.")), Length(max=100)],
        description=_l("Say where it is used, e.g. the national tracking database."),
    )
    scopes = SelectMultipleField(
        _l("What the token may do"),
        choices=[SelectChoice(value, label) for value, label in SCOPE_LABELS.items()],
        default=["read"],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose what the token may do."))],
    )
    days = SelectField(
        _l("Valid for"),
        coerce=int,
        default=90,
    )
    submit = SubmitField(_l("Create token"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.days.choices = [
            SelectChoice(d, ngettext("%(num)d day", "%(num)d days", d)) for d in LIFETIMES_DAYS
        ]
