"""The form of one self-assessment section, built from the framework's questions.

Field names carry the question code (``SEC-2-level``, ``SEC-2-choice``, ``SEC-2-narrative``,
``SEC-2-evidence``) so that a posted form reads like the questionnaire. Every input is optional:
drafts save partially; only values outside the scales are refused.

Hidden fields carry the version the page was rendered from: ``base_version`` (the whole section)
and one ``<part>-base`` per question code and for the gaps (``gaps-base``), so that a refused save
can name the questions someone else changed meanwhile (`app.services.concurrency`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Length

from app.models import (
    ASSISTANCE_KINDS,
    CAPACITY_LEVELS,
    Answer,
    AnswerType,
    FrameworkSection,
    SectionGaps,
)
from app.services import self_assessment as service
from app.web.forms import optional_int

#: The limit of every free-text answer, as for the other long texts (evaluations, reports):
#: long enough for any real answer, short enough to refuse a pasted book (issue 14).
TEXT_LIMIT = 50_000


def _limited() -> list:
    """The validators of a long text: at most `TEXT_LIMIT` characters, with a message saying so
    (the page shows the typed text back)."""
    return [
        Length(
            max=TEXT_LIMIT,
            message=_l(
                "This text has %(length)d characters; at most %(max)d are accepted. Shorten it "
                "and save again: what you typed is kept below."
            ),
        )
    ]


CHOICE_LABELS = {"yes": _l("Yes"), "partial": _l("Partial"), "no": _l("No")}


class OptionalRadioField(RadioField):
    """A radio group that may stay unanswered but never takes a value outside its choices."""

    def pre_validate(self, form) -> None:
        if self.data in (None, "") and not self.process_errors:
            return
        super().pre_validate(form)


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SectionForm(FlaskForm):
    """Capacity gaps and assistance sought; the question fields are added by `section_form`."""

    capacity_gaps = TextAreaField(
        _l("Identified capacity gaps"),
        validators=_limited(),
        description=_l("What is missing in this area, in the state's own assessment."),
        render_kw={"rows": 4},
    )
    assistance_sought = CheckboxListField(
        _l("Assistance sought (pillar two)"),
        choices=[SelectChoice(key, _l(label)) for key, label in ASSISTANCE_KINDS.items()],
    )
    assistance_details = TextAreaField(
        _l("Details of the assistance sought"),
        validators=_limited(),
        description=_l("What kind of help, from whom, for which institution."),
        render_kw={"rows": 3},
    )
    base_version = HiddenField()
    save = SubmitField(_l("Save draft"))
    save_next = SubmitField(_l("Save and next section"))

    def changed_since_loaded(self, versions: dict[str, str]) -> list[str]:
        """The parts (question codes, ``gaps``) whose stored ``versions`` differ from the ones the
        posted page was rendered from."""
        changed = []
        for part, version in versions.items():
            field = self._fields.get(f"{part}-base")
            if field is not None and field.data and field.data != version:
                changed.append(part)
        return changed

    def rebase(self, versions: dict[str, str]) -> None:
        """Point the hidden versions at ``versions`` (what is stored now), so that the next save
        of this page replaces it deliberately."""
        self.base_version.data = service.version_of(versions)
        for part, version in versions.items():
            field = self._fields.get(f"{part}-base")
            if field is not None:
                field.data = version

    def question_fields(self, code: str) -> dict[str, Any]:
        """The bound fields of question ``code``: ``value`` (None for text), narrative, evidence."""
        return {
            "value": self._fields.get(f"{code}-level") or self._fields.get(f"{code}-choice"),
            "narrative": self[f"{code}-narrative"],
            "evidence": self[f"{code}-evidence"],
        }

    def section_data(self, section: FrameworkSection) -> dict[str, Any]:
        """The validated data in the shape `app.services.self_assessment.save_section` takes."""
        answers = {}
        for question in section.questions:
            fields = self.question_fields(question.code)
            entry = {"narrative": fields["narrative"].data, "evidence": fields["evidence"].data}
            if question.answer_type == AnswerType.CAPACITY_LEVEL:
                entry["level"] = fields["value"].data
            elif question.answer_type == AnswerType.YES_NO_PARTIAL:
                entry["choice"] = fields["value"].data or None
            answers[question.code] = entry
        return {
            "answers": answers,
            "capacity_gaps": self.capacity_gaps.data,
            "assistance_sought": self.assistance_sought.data or [],
            "assistance_details": self.assistance_details.data,
        }


def section_form(
    section: FrameworkSection, answers: dict[int, Answer], gaps: SectionGaps | None
) -> SectionForm:
    """A `SectionForm` for ``section``, filled from the stored ``answers`` and ``gaps`` and their
    versions; on a POST the posted values take precedence (so nothing typed is lost when the form
    is shown again, and the versions are those the posted page was rendered from)."""

    class Form(SectionForm):
        pass

    versions = service.section_versions(section, answers, gaps)
    data: dict[str, Any] = {"base_version": service.version_of(versions)}
    for part, version in versions.items():
        setattr(Form, f"{part}-base", HiddenField())
        data[f"{part}-base"] = version
    for question in section.questions:
        code = question.code
        answer = answers.get(question.id)
        if question.answer_type == AnswerType.CAPACITY_LEVEL:
            setattr(
                Form,
                f"{code}-level",
                OptionalRadioField(
                    _l("Capacity level"),
                    choices=[
                        SelectChoice(level, f"{level} — {_l(label)}")
                        for level, label in CAPACITY_LEVELS.items()
                    ],
                    coerce=optional_int,
                ),
            )
            data[f"{code}-level"] = answer.level if answer else None
        elif question.answer_type == AnswerType.YES_NO_PARTIAL:
            setattr(
                Form,
                f"{code}-choice",
                OptionalRadioField(
                    _l("Answer"), choices=[SelectChoice(k, v) for k, v in CHOICE_LABELS.items()]
                ),
            )
            data[f"{code}-choice"] = answer.choice.value if answer and answer.choice else None
        narrative_label = (
            _l("Answer") if question.answer_type == AnswerType.TEXT else _l("Narrative")
        )
        setattr(
            Form,
            f"{code}-narrative",
            TextAreaField(narrative_label, validators=_limited(), render_kw={"rows": 5}),
        )
        setattr(
            Form,
            f"{code}-evidence",
            TextAreaField(
                _l("Evidence"),
                validators=_limited(),
                description=_l("Documents, laws, reports cited (one per line)."),
                render_kw={"rows": 3},
            ),
        )
        data[f"{code}-narrative"] = answer.narrative if answer else ""
        data[f"{code}-evidence"] = answer.evidence if answer else ""
    data["capacity_gaps"] = gaps.capacity_gaps if gaps else ""
    data["assistance_sought"] = list(gaps.assistance_sought or []) if gaps else []
    data["assistance_details"] = gaps.assistance_details if gaps else ""
    return Form(data=data)
