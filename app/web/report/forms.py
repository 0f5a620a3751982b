"""Forms of the peer-review report: the lead's draft, recommendations, the state's comments.

The draft form is built per framework: one consensus rating (capacity level 0–4, DESIGN §7),
findings and good-practices field per section, named ``consensus_<section id>`` etc.
Recommendations carry the UPR Info action category 1–5, a priority and an addressee.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.models import Addressee, FrameworkSection, Priority
from app.web.evaluation.forms import (
    TEXT_LIMIT,
    action_category_choices,
    optional_int,
    rating_choices,
    section_choices,
)

PRIORITY_LABELS = {
    Priority.HIGH: _l("High"),
    Priority.MEDIUM: _l("Medium"),
    Priority.LOW: _l("Low"),
}

ADDRESSEE_LABELS = {
    Addressee.STATE: _l("The state under review"),
    Addressee.INTERNATIONAL_PARTNERS: _l("International partners (pillar two assistance)"),
}


class ReportDraftForm(FlaskForm):
    """The fixed part of the draft; `build_report_form` adds the sections."""

    #: the `fingerprint` of the stored draft the page was rendered from
    base_version = HiddenField()
    executive_summary = TextAreaField(
        _l("Executive summary"),
        validators=[Length(max=TEXT_LIMIT)],
        description=_l("Published with the recommendations when the state consents."),
    )

    def consensus(self, section_id: int):
        return self[f"consensus_{section_id}"]

    def findings(self, section_id: int):
        return self[f"findings_{section_id}"]

    def good_practices(self, section_id: int):
        return self[f"good_practices_{section_id}"]


def build_report_form(sections: list[FrameworkSection], **kwargs) -> ReportDraftForm:
    """A `ReportDraftForm` with consensus rating, findings and good practices per section."""

    class Form(ReportDraftForm):
        pass

    for section in sections:
        setattr(
            Form,
            f"consensus_{section.id}",
            RadioField(
                _l("Consensus rating"), coerce=optional_int, choices=rating_choices(), default=""
            ),
        )
        setattr(
            Form,
            f"findings_{section.id}",
            TextAreaField(_l("Findings"), validators=[Length(max=TEXT_LIMIT)]),
        )
        setattr(
            Form,
            f"good_practices_{section.id}",
            TextAreaField(_l("Good practices"), validators=[Length(max=TEXT_LIMIT)]),
        )
    return Form(**kwargs)


class RecommendationForm(FlaskForm):
    """One recommendation of the report."""

    section_id = SelectField(
        _l("Section"), coerce=optional_int, validators=[InputRequired(_l("Choose a section."))]
    )
    text = TextAreaField(
        _l("Recommendation"),
        validators=[DataRequired(_l("Write the recommendation.")), Length(max=TEXT_LIMIT)],
    )
    priority = SelectField(
        _l("Priority"),
        coerce=Priority,
        default=Priority.MEDIUM,
        choices=[SelectChoice(p.value, label) for p, label in PRIORITY_LABELS.items()],
    )
    action_category = SelectField(
        _l("Action category (UPR Info scale)"),
        coerce=int,
        default=4,
        description=_l("How specific the action is that the recommendation asks for."),
    )
    addressee = SelectField(
        _l("Addressed to"),
        coerce=Addressee,
        default=Addressee.STATE,
        choices=[SelectChoice(a.value, label) for a, label in ADDRESSEE_LABELS.items()],
    )
    target_date = DateField(_l("Target date"), validators=[Optional()])

    def fill_choices(self, sections: list[FrameworkSection]) -> RecommendationForm:
        self.section_id.choices = section_choices(sections, _("Choose a section…"))
        self.action_category.choices = action_category_choices()
        return self


class RecommendationEditForm(RecommendationForm):
    """A recommendation on its own edit page, with the version of the stored one it shows."""

    base_version = HiddenField()


class FactualCommentForm(FlaskForm):
    """A factual-accuracy comment of the state, general or on one section."""

    section_id = SelectField(_l("On"), coerce=optional_int)
    body = TextAreaField(
        _l("Comment"),
        validators=[DataRequired(_l("Write the comment.")), Length(max=TEXT_LIMIT)],
        description=_l(
            "Point out factual errors or omissions. Your comments are shown beside the "
            "reviewers' findings; the findings themselves are not changed."
        ),
    )

    def fill_choices(self, sections: list[FrameworkSection]) -> FactualCommentForm:
        self.section_id.choices = section_choices(sections, _("The report in general"))
        return self
