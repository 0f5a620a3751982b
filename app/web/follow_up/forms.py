"""Forms of the response and follow-up pages, and the display labels of their scales.

The response form carries the version it was rendered from: ``base_version`` (all responses) and
one ``r<recommendation id>-base`` per recommendation, so that a refused save can name the
recommendations someone else changed meanwhile (`app.services.concurrency`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from app.models import Recommendation
from app.services import follow_up as service

#: UPR terms for a state's position on a recommendation.
POSITION_LABELS = {"supported": _l("Supported"), "noted": _l("Noted")}
PROGRESS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
}
#: GRECO-style compliance scale used by the secretariat.
ASSESSMENT_LABELS = {
    "implemented": _l("Implemented"),
    "partially_implemented": _l("Partially implemented"),
    "not_implemented": _l("Not implemented"),
    "no_longer_applicable": _l("No longer applicable"),
}
PRIORITY_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
ADDRESSEE_LABELS = {
    "state": _l("The state under review"),
    "international_partners": _l("International partners (pillar two)"),
}
LABELS = {
    "position": POSITION_LABELS,
    "progress": PROGRESS_LABELS,
    "assessment": ASSESSMENT_LABELS,
    "priority": PRIORITY_LABELS,
    "addressee": ADDRESSEE_LABELS,
}


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class OptionalRadioField(RadioField):
    """A radio group that may stay unanswered (drafts) but never takes a value outside its
    choices."""

    def pre_validate(self, form) -> None:
        if self.data in (None, "") and not self.process_errors:
            return
        super().pre_validate(form)


class ResponseForm(FlaskForm):
    """The state's responses; one group of fields per recommendation is added by
    `response_form`."""

    base_version = HiddenField()
    save = SubmitField(_l("Save"))
    submit = SubmitField(_l("Save and submit the response"))

    def changed_since_loaded(self, versions: dict[str, str]) -> list[int]:
        """The recommendation ids whose stored response ``versions`` differ from the ones the
        posted page was rendered from."""
        changed = []
        for rec_id, version in versions.items():
            field = self._fields.get(f"r{rec_id}-base")
            if field is not None and field.data and field.data != version:
                changed.append(int(rec_id))
        return changed

    def rebase(self, versions: dict[str, str]) -> None:
        """Point the hidden versions at ``versions`` (what is stored now), so that the next save
        of this page replaces it deliberately."""
        self.base_version.data = service.version_of(versions)
        for rec_id, version in versions.items():
            field = self._fields.get(f"r{rec_id}-base")
            if field is not None:
                field.data = version

    def fields_of(self, recommendation_id: int) -> dict[str, Any]:
        """The bound fields of one recommendation's response."""
        prefix = f"r{recommendation_id}-"
        return {
            name: self[prefix + name]
            for name in (
                "position",
                "explanation",
                "planned_action",
                "responsible_institution",
                "target_date",
            )
        }

    def response_data(self, recommendations: list[Recommendation]) -> dict[int, dict[str, Any]]:
        """The validated data in the shape `app.services.follow_up.save_responses` takes."""
        data = {}
        for recommendation in recommendations:
            fields = self.fields_of(recommendation.id)
            entry = {name: field.data for name, field in fields.items()}
            entry["position"] = entry["position"] or None
            data[recommendation.id] = entry
        return data


def response_form(recommendations: list[Recommendation]) -> ResponseForm:
    """A `ResponseForm` with the stored responses and their versions; posted values take
    precedence on a POST (the versions are then those the posted page was rendered from)."""

    class Form(ResponseForm):
        pass

    versions = service.response_versions({r.id: r.response for r in recommendations})
    data: dict[str, Any] = {"base_version": service.version_of(versions)}
    for recommendation in recommendations:
        prefix = f"r{recommendation.id}-"
        response = recommendation.response
        setattr(Form, prefix + "base", HiddenField())
        data[prefix + "base"] = versions[str(recommendation.id)]
        setattr(
            Form,
            prefix + "position",
            OptionalRadioField(_l("Position"), choices=_choices(POSITION_LABELS)),
        )
        setattr(
            Form,
            prefix + "explanation",
            TextAreaField(
                _l("Explanation"),
                description=_l("Why the state supports or notes it."),
                render_kw={"rows": 3},
            ),
        )
        setattr(
            Form,
            prefix + "planned_action",
            TextAreaField(_l("Planned action"), render_kw={"rows": 3}),
        )
        setattr(
            Form,
            prefix + "responsible_institution",
            StringField(_l("Responsible institution")),
        )
        setattr(Form, prefix + "target_date", DateField(_l("Target date"), validators=[Optional()]))
        data[prefix + "position"] = (
            response.position.value if response and response.position else None
        )
        data[prefix + "explanation"] = response.explanation if response else ""
        data[prefix + "planned_action"] = response.planned_action if response else ""
        data[prefix + "responsible_institution"] = (
            response.responsible_institution if response else ""
        )
        data[prefix + "target_date"] = response.target_date if response else None
    return Form(data=data)


class ProgressForm(FlaskForm):
    """A progress update by the state on one recommendation (prefix ``p<recommendation id>``)."""

    status = SelectField(
        _l("Progress"),
        choices=[SelectChoice("", _l("Choose…")), *_choices(PROGRESS_LABELS)],
        validators=[DataRequired(_l("Choose a progress status."))],
    )
    narrative = TextAreaField(
        _l("What has been done"),
        description=_l("Steps taken and results."),
        validators=[DataRequired(_l("Say what has been done."))],
        render_kw={"rows": 4},
    )
    evidence = TextAreaField(
        _l("Evidence"),
        description=_l(
            "What shows it: laws adopted, budget lines, reports, with their references or links."
        ),
        render_kw={"rows": 2},
    )
    submit = SubmitField(_l("Post progress update"))


class AssessmentForm(FlaskForm):
    """An implementation assessment by the secretariat (prefix ``a<recommendation id>``)."""

    status = SelectField(
        _l("Assessment"),
        choices=[SelectChoice("", _l("Choose…")), *_choices(ASSESSMENT_LABELS)],
        validators=[DataRequired(_l("Choose an assessment."))],
    )
    note = TextAreaField(
        _l("Note"), description=_l("The basis of the assessment."), render_kw={"rows": 4}
    )
    submit = SubmitField(_l("Post assessment"))
