"""Forms of the publication pages: the state's consent, and the mid-term report actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField
from wtforms.validators import InputRequired

#: What each consent level publishes (issue 5; the UNCAC practice of consent to publication).
CONSENT_LABELS = {
    "full": _l("The full report"),
    "summary": _l("The executive summary and the recommendations only"),
    "none": _l("Nothing"),
}
CONSENT_HELP = {
    "full": _l(
        "Executive summary, findings, consensus ratings and good practices of each section, the "
        "recommendations with your responses and their implementation status, and your "
        "factual-accuracy comments."
    ),
    "summary": _l("The executive summary and the text of the recommendations; nothing else."),
    "none": _l("Nothing of this review is public."),
}


class ConsentForm(FlaskForm):
    level = RadioField(
        _l("What may be published"),
        choices=[SelectChoice(k, v) for k, v in CONSENT_LABELS.items()],
        validators=[InputRequired(_l("Choose what may be published."))],
    )
    submit = SubmitField(_l("Save the publication decision"))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (generate, publish)."""

    submit = SubmitField(_l("Confirm"))
