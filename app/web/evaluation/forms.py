"""Forms of a peer reviewer's evaluation.

The evaluation form is built per framework: one rating (capacity level 0–4, DESIGN §7), findings
and good practices field per section, named ``rating_<section id>`` etc., plus the overall summary
and the fields of a new proposed recommendation (action category: UPR Info scale 1–5).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length

from app.models import ACTION_CATEGORIES, CAPACITY_LEVELS, FrameworkSection
from app.web.forms import optional_int

#: Long enough for any real text, short enough to refuse a pasted book.
TEXT_LIMIT = 50_000


def rating_choices() -> list[SelectChoice]:
    """The "not rated yet" choice plus the capacity levels 0–4 with labels (DESIGN §7)."""
    return [SelectChoice("", _("Not rated yet"))] + [
        SelectChoice(str(level), f"{level} — {_(label)}")
        for level, label in CAPACITY_LEVELS.items()
    ]


def action_category_choices() -> list[SelectChoice]:
    """Action categories 1–5 with their meaning (UPR Info scale)."""
    return [
        SelectChoice(str(level), f"{level} — {_(meaning)}")
        for level, meaning in ACTION_CATEGORIES.items()
    ]


def section_choices(sections: list[FrameworkSection], empty: str) -> list[SelectChoice]:
    """The framework's sections as options, after an ``empty`` first option (value "")."""
    return [SelectChoice("", empty)] + [
        SelectChoice(str(s.id), f"{s.number}. {s.title}") for s in sections
    ]


class EvaluationForm(FlaskForm):
    """The fixed part of the evaluation form; `evaluation_form_class` adds the sections."""

    expected_status = HiddenField()
    #: the `fingerprint` of the stored evaluation the page was rendered from
    base_version = HiddenField()
    summary = TextAreaField(
        _l("Overall summary"),
        validators=[Length(max=TEXT_LIMIT)],
        description=_l("Your overall assessment of the state's capacity, in a few paragraphs."),
    )
    new_section = SelectField(_l("Section"), coerce=optional_int, validate_choice=True)
    new_text = TextAreaField(_l("Proposed recommendation"), validators=[Length(max=TEXT_LIMIT)])
    new_category = RadioField(_l("Action category"), coerce=int, default=4)

    section_ids: list[int] = []

    def rating(self, section_id: int):
        return self[f"rating_{section_id}"]

    def findings(self, section_id: int):
        return self[f"findings_{section_id}"]

    def good_practices(self, section_id: int):
        return self[f"good_practices_{section_id}"]

    def wants_new_proposal(self, adding: bool) -> bool:
        """Whether a proposal is to be added: the add button, or text typed before saving."""
        return adding or bool((self.new_text.data or "").strip())

    def check_new_proposal(self) -> bool:
        """Validate the new-proposal fields (only when one is being added)."""
        ok = True
        if not (self.new_text.data or "").strip():
            self.new_text.errors = [*self.new_text.errors, _("Write the proposed recommendation.")]
            ok = False
        if self.new_section.data is None:
            self.new_section.errors = [*self.new_section.errors, _("Choose a section.")]
            ok = False
        return ok


def evaluation_form_class(sections: list[FrameworkSection]) -> type[EvaluationForm]:
    """An `EvaluationForm` subclass with rating, findings and good-practice fields per section."""

    class Form(EvaluationForm):
        pass

    for section in sections:
        setattr(
            Form,
            f"rating_{section.id}",
            RadioField(
                _l("Capacity rating"), coerce=optional_int, choices=rating_choices(), default=""
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
            TextAreaField(
                _l("Good practices"),
                validators=[Length(max=TEXT_LIMIT)],
                description=_l("Practices other states could learn from."),
            ),
        )
    Form.section_ids = [section.id for section in sections]
    return Form


def build_evaluation_form(sections: list[FrameworkSection], **kwargs) -> EvaluationForm:
    """Instantiate the form for ``sections`` with the section and category choices filled in."""
    form = evaluation_form_class(sections)(**kwargs)
    form.new_section.choices = section_choices(sections, _("Choose a section…"))
    form.new_category.choices = action_category_choices()
    return form
