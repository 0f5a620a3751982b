"""Forms of stakeholder submissions: the submission (one text box per framework section, added
by the route), screening, the secretariat's per-section summary."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectChoice, SubmitField, TextAreaField


class SubmissionForm(FlaskForm):
    identity = RadioField(
        _l("May the reviewed state learn who you are?"),
        choices=[
            SelectChoice(
                "anonymous",
                _l("No: keep our organisation anonymous towards the state and the reviewers"),
            ),
            SelectChoice(
                "named", _l("Yes: our organisation's name may be shown with the submission")
            ),
        ],
        default="anonymous",
    )
    files = MultipleFileField(
        _l("Files (optional)"),
        description=_l(
            "Author fields (creator, company, last modified by) are removed from the files."
        ),
    )
    submit = SubmitField(_l("Send to the secretariat"))


class ScreeningForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("accept", _l("Accept: the review team reads it")),
            SelectChoice("ask_changes", _l("Ask for changes")),
            SelectChoice("reject", _l("Reject")),
        ],
    )
    reason = TextAreaField(
        _l("Reason for the organisation"),
        description=_l("Required to reject or to ask for changes."),
        render_kw={"rows": 2},
    )
    submit = SubmitField(_l("Record screening"))


class SummaryForm(FlaskForm):
    body = TextAreaField(_l("Summary for this section"), render_kw={"rows": 4})
    submit = SubmitField(_l("Save summary"))
