"""The API's request and response shapes (marshmallow schemas, turned into the OpenAPI document
by flask-smorest). Instants are ISO 8601 in UTC; dates ISO 8601; enums are the stored values
(e.g. ``supported``, ``in_progress``), the same as the public CSV."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.models import (
    AssessmentStatus,
    ConsentLevel,
    ProgressStatus,
    RegionalGroup,
    ResponsePosition,
)
from app.services.publication import NOT_ASSESSED
from workflows import ReviewStatus


def _values(enum) -> list[str]:
    return [member.value for member in enum]


def _enum(enum, **kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf(_values(enum)), **kwargs)


class PageArgs(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(ma.Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class RecommendationFilterArgs(PageArgs):
    """The public database's filters (`app.services.publication.RecommendationFilters`)."""

    state = fields.String(
        validate=validate.Length(max=3), metadata={"description": "ISO 3166 alpha-3 code"}
    )
    group = _enum(RegionalGroup, metadata={"description": "UN regional group"})
    section = fields.String(
        validate=validate.Length(max=20), metadata={"description": "framework section code"}
    )
    response = _enum(ResponsePosition)
    category = fields.Integer(
        validate=validate.Range(min=1, max=5), metadata={"description": "UPR Info category"}
    )
    status = fields.String(
        validate=validate.OneOf([*_values(AssessmentStatus), NOT_ASSESSED]),
        metadata={"description": "latest implementation assessment"},
    )
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "words"})


class GoodPracticeArgs(ma.Schema):
    section = fields.String(validate=validate.Length(max=20))
    group = _enum(RegionalGroup)
    q = fields.String(validate=validate.Length(max=200))


class PublishedReportSchema(ma.Schema):
    review_id = fields.Integer(required=True)
    state = fields.String(required=True)
    state_code = fields.String(required=True)
    cycle = fields.String(required=True)
    level = _enum(ConsentLevel, required=True)
    adopted_at = fields.DateTime(required=True, allow_none=True)


class PublishedReportPage(PageSchema):
    items = fields.List(fields.Nested(PublishedReportSchema), required=True)


class PublicRecommendationSchema(ma.Schema):
    """One published recommendation; ``position`` and ``status`` are null unless the state
    consented to publishing the full report."""

    id = fields.Integer(required=True)
    review_id = fields.Integer(required=True)
    state = fields.String(required=True)
    state_code = fields.String(required=True)
    regional_group = fields.String(required=True)
    cycle = fields.String(required=True)
    section_number = fields.Integer(required=True)
    section_code = fields.String(required=True)
    section_title = fields.String(required=True)
    text = fields.String(required=True)
    action_category = fields.Integer(required=True)
    level = _enum(ConsentLevel, required=True)
    position = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, allow_none=True)
    carried = fields.Boolean(required=True)


class PublicRecommendationPage(PageSchema):
    items = fields.List(fields.Nested(PublicRecommendationSchema), required=True)


class PublicSectionSchema(ma.Schema):
    number = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    consensus_rating = fields.Integer(required=True, allow_none=True)
    findings = fields.String(required=True)
    good_practices = fields.String(required=True)


class CommentSchema(ma.Schema):
    section = fields.String(required=True, allow_none=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class MidtermRefSchema(ma.Schema):
    version = fields.Integer(required=True)
    published_at = fields.DateTime(required=True)


class PublicReportSchema(PublishedReportSchema):
    """A published report: the executive summary and recommendations; under a full consent also
    the sections, the state's positions and statuses, and the state's comments."""

    executive_summary = fields.String(required=True)
    sections = fields.List(fields.Nested(PublicSectionSchema), required=True)
    recommendations = fields.List(fields.Nested(PublicRecommendationSchema), required=True)
    comments = fields.List(fields.Nested(CommentSchema), required=True)
    midterms = fields.List(fields.Nested(MidtermRefSchema), required=True)


class MidtermEntrySchema(ma.Schema):
    status = fields.String(required=True)
    date = fields.String(required=True, allow_none=True)


class MidtermResponseSchema(ma.Schema):
    position = fields.String(required=True, allow_none=True)
    planned_action = fields.String(required=True)
    responsible_institution = fields.String(required=True)


class MidtermRecommendationSchema(ma.Schema):
    number = fields.String(required=True)
    section = fields.String(required=True)
    text = fields.String(required=True)
    carried = fields.Boolean(required=True)
    response = fields.Nested(MidtermResponseSchema, allow_none=True)
    progress = fields.Nested(MidtermEntrySchema, allow_none=True)
    assessment = fields.Nested(MidtermEntrySchema, allow_none=True)


class PublicMidtermSchema(ma.Schema):
    """A published mid-term report; responses, progress statuses and assessments (never their
    narratives or notes) and the per-section figures only under a full consent."""

    review_id = fields.Integer(required=True)
    state = fields.String(required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    published_at = fields.DateTime(required=True)
    figures = fields.Dict(required=True, allow_none=True)
    recommendations = fields.List(fields.Nested(MidtermRecommendationSchema), required=True)


class GoodPracticeSchema(ma.Schema):
    review_id = fields.Integer(required=True)
    state = fields.String(required=True)
    cycle = fields.String(required=True)
    section_code = fields.String(required=True)
    section_title = fields.String(required=True)
    text = fields.String(required=True)


class GoodPracticeList(ma.Schema):
    items = fields.List(fields.Nested(GoodPracticeSchema), required=True)


# --- authenticated --------------------------------------------------------------------------


class MeSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    state_code = fields.String(required=True, allow_none=True)
    scopes = fields.List(fields.String(), required=True)


class DeadlineSchema(ma.Schema):
    stage = fields.String(required=True)
    due_at = fields.DateTime(required=True)


class ReviewSchema(ma.Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    state_code = fields.String(required=True)
    cycle_id = fields.Integer(required=True)
    cycle = fields.String(required=True)
    status = _enum(ReviewStatus, required=True)
    status_changed_at = fields.DateTime(required=True)
    deadlines = fields.List(fields.Nested(DeadlineSchema), required=True)


class ReviewPage(PageSchema):
    items = fields.List(fields.Nested(ReviewSchema), required=True)


class ResponseSchema(ma.Schema):
    position = fields.String(required=True, allow_none=True)
    explanation = fields.String(required=True)
    planned_action = fields.String(required=True)
    responsible_institution = fields.String(required=True)
    target_date = fields.Date(required=True, allow_none=True)


class ProgressSchema(ma.Schema):
    id = fields.Integer(required=True)
    status = _enum(ProgressStatus, required=True)
    narrative = fields.String(required=True)
    evidence = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class AssessmentSchema(ma.Schema):
    status = _enum(AssessmentStatus, required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class RecommendationSchema(ma.Schema):
    """A recommendation with the state's response and its follow-up. ``progress_version``: send
    it back with a progress update; a newer update posted meanwhile makes the post a 409."""

    id = fields.Integer(required=True)
    review_id = fields.Integer(required=True)
    section_code = fields.String(required=True)
    section_title = fields.String(required=True)
    text = fields.String(required=True)
    priority = fields.String(required=True)
    action_category = fields.Integer(required=True)
    response = fields.Nested(ResponseSchema, required=True, allow_none=True)
    progress = fields.List(fields.Nested(ProgressSchema), required=True)
    assessments = fields.List(fields.Nested(AssessmentSchema), required=True)
    progress_version = fields.String(required=True)


class RecommendationList(ma.Schema):
    items = fields.List(fields.Nested(RecommendationSchema), required=True)


class ProgressPostSchema(ma.Schema):
    """A progress update, validated like the follow-up page's form."""

    status = _enum(ProgressStatus, required=True)
    narrative = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    evidence = fields.String(load_default="", validate=validate.Length(max=20000))
    base_version = fields.String(
        required=True,
        validate=validate.Length(max=40),
        metadata={"description": "the recommendation's progress_version as last read"},
    )


class CycleSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    starts_on = fields.Date(required=True)
    time_zone = fields.String(required=True)


class CycleList(ma.Schema):
    items = fields.List(fields.Nested(CycleSchema), required=True)


class DashboardRowSchema(ma.Schema):
    review_id = fields.Integer(required=True)
    state = fields.String(required=True)
    state_code = fields.String(required=True)
    status = _enum(ReviewStatus, required=True)
    days_in_phase = fields.Integer(required=True)
    due_at = fields.DateTime(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)


class DashboardSchema(ma.Schema):
    """The secretariat dashboard's figures of one cycle: reviews with phase and next deadline,
    and counts ``{label: {key: n}}`` of responses and implementation by section and by state."""

    cycle_id = fields.Integer(required=True)
    reviews = fields.List(fields.Nested(DashboardRowSchema), required=True)
    responses_by_section = fields.Dict(required=True)
    responses_by_state = fields.Dict(required=True)
    implementation_by_section = fields.Dict(required=True)
    implementation_by_state = fields.Dict(required=True)
