"""Forms of the draw-by-lot pages (DESIGN §6)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange


class DrawRulesForm(FlaskForm):
    """The cycle's draw-by-lot rules (DESIGN §6); own state and conflicts are always excluded."""

    team_size = IntegerField(
        _l("Reviewers per review team"), validators=[InputRequired(), NumberRange(min=1, max=7)]
    )
    distinct_groups = BooleanField(_l("Members from distinct regional groups"))
    same_group = BooleanField(_l("At least one member from the reviewed state's regional group"))
    max_per_reviewer = IntegerField(
        _l("At most this many reviews per reviewer in the cycle (K)"),
        validators=[InputRequired(), NumberRange(min=1, max=20)],
    )
    no_reciprocal = BooleanField(
        _l("No reciprocal pairs (if a national of B reviews A, no national of A reviews B)")
    )
    submit = SubmitField(_l("Save rules"))


class OpenDrawForm(FlaskForm):
    """Open a draw (DESIGN §6): the seed is recorded before any team is shown. ``reason`` is
    required only when another draw of the cycle is open (drawing again)."""

    scope = HiddenField()
    review_id = HiddenField()
    replaces_id = HiddenField()
    seed = StringField(_l("Seed (optional)"))
    reason = TextAreaField(_l("Why draw again?"))
    submit = SubmitField(_l("Open the draw"))


class ConfirmDrawForm(FlaskForm):
    """Posted by the open draw's page: the draw to confirm, and the fingerprint it showed."""

    batch = HiddenField()
    fingerprint = HiddenField()
    submit = SubmitField(_l("Confirm and invite the drawn reviewers"))


class SetAsideForm(FlaskForm):
    """Set an open draw aside without drawing again; the reason is kept in the record."""

    batch = HiddenField()
    reason = TextAreaField(_l("Why set this draw aside?"))
    submit = SubmitField(_l("Set the draw aside"))
