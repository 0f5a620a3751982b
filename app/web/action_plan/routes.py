"""The state's national action plan (issue 17): the plan page (by recommendation, measure,
institution, section, and a timeline), measures with their indicators, milestones and progress,
the state's institutions, evidence files, CSV/XLSX export, the public plan (full consent only,
without budget lines) and the secretariat's roll-up across states.

Who sees what is `app.access` (``action_plan.*``): the secretariat and the state's focal points
once the report is adopted; reviewers and other states never (404). Each write calls one function
of `app.services.action_plan` and commits once; a refused write shows the form again with what
was typed (422), a stale one says someone acted first (409).
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from app import access
from app.extensions import db
from app.models import Review
from app.services import action_plan as service
from app.services import enhanced_follow_up, evidence, exports
from app.web.action_plan.forms import (
    DECISION_LABELS,
    FREQUENCY_LABELS,
    MEASURE_STATUS_LABELS,
    IndicatorForm,
    InstitutionForm,
    MeasureForm,
    MilestoneForm,
    ProgressForm,
    choices,
)
from app.web.helpers import get_or_404

bp = Blueprint("action_plan", __name__, url_prefix="/reviews/<int:review_id>/action-plan")
public_bp = Blueprint("action_plan_public", __name__, url_prefix="/public")
roll_up_bp = Blueprint("action_plan_roll_up", __name__, url_prefix="/monitoring")

VIEWS = ("recommendation", "measure", "institution", "section", "timeline")
LABELS = {
    "status": MEASURE_STATUS_LABELS,
    "frequency": FREQUENCY_LABELS,
    "decision": DECISION_LABELS,
}


def _load(review_id: int) -> Review:
    review = get_or_404(Review, review_id)
    access.require(current_user, "action_plan.view", review, hide=True)
    return review


def _measure(review: Review, measure_id: int):
    measure = service.measure_of(review, measure_id)
    if measure is None:
        abort(404)
    return measure


def _version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@bp.route("")
@login_required
def show(review_id: int):
    review = _load(review_id)
    view = request.args.get("view", "recommendation")
    if view not in VIEWS:
        view = "recommendation"
    plan = service.plan_of(review)
    return render_template(
        "action_plan/show.html",
        review=review,
        plan=plan,
        view=view,
        views=VIEWS,
        labels=LABELS,
        rounds=enhanced_follow_up.rounds_of(review),
        proposal=enhanced_follow_up.open_proposal(review),
        budget=access.can(current_user, "action_plan.view_budget", review),
        editable=access.can(current_user, "action_plan.edit", review),
    )


def _measure_form(review: Review, form: MeasureForm) -> MeasureForm:
    plan_recs = service.plan_of(review).recommendations
    form.recommendations.choices = choices(
        (rec.id, f"{rec.section.number}. {rec.section.title} — {rec.text}") for rec in plan_recs
    )
    institutions = service.institutions_of(review.state_id)
    form.lead_institution.choices = choices(
        [("", _("— none yet —"))] + [(str(i.id), i.name) for i in institutions]
    )
    form.contributors.choices = choices((i.id, i.name) for i in institutions)
    return form


def _render_measure_form(review, form, measure=None, error=None, status=200):
    return (
        render_template(
            "action_plan/measure_form.html",
            review=review,
            form=form,
            measure=measure,
            error=error,
            institution_form=InstitutionForm(formdata=None),
        ),
        status,
    )


def _save(review: Review, form: MeasureForm, measure=None):
    """Validate and store the posted measure; a response either way."""
    if not form.validate_on_submit():
        return _render_measure_form(review, form, measure, status=422)
    try:
        saved = service.save_measure(
            review,
            current_user,
            measure=measure,
            version=_version(form.version.data),
            title=form.title.data,
            description=form.description.data,
            recommendation_ids=form.recommendations.data or [],
            lead_institution_id=int(form.lead_institution.data)
            if (form.lead_institution.data or "").isdigit()
            else None,
            contributor_ids=form.contributors.data or [],
            start_date=form.start_date.data,
            due_date=form.due_date.data,
            budget_line=form.budget_line.data,
            status=form.status.data,
            cancel_reason=form.cancel_reason.data,
        )
        db.session.commit()
    except (service.StaleWrite, StaleDataError):
        db.session.rollback()
        return _render_measure_form(
            review, form, measure, error=str(service.StaleWrite()), status=409
        )
    except service.PlanError as refused:
        db.session.rollback()
        if refused.field and refused.field in form:
            form[refused.field].errors = [*form[refused.field].errors, str(refused)]
            return _render_measure_form(review, form, measure, status=422)
        return _render_measure_form(review, form, measure, error=str(refused), status=422)
    flash(_("Measure saved."), "success")
    return redirect(url_for(".measure", review_id=review.id, measure_id=saved.id))


@bp.route("/measures/new", methods=["GET", "POST"])
@login_required
def new_measure(review_id: int):
    review = _load(review_id)
    access.require(current_user, "action_plan.edit", review)
    form = _measure_form(review, MeasureForm())
    if request.method == "GET":
        wanted = request.args.get("recommendation", "")
        if wanted.isdigit():
            form.recommendations.data = [int(wanted)]
        return _render_measure_form(review, form)
    return _save(review, form)


@bp.route("/measures/<int:measure_id>/edit", methods=["GET", "POST"])
@login_required
def edit_measure(review_id: int, measure_id: int):
    review = _load(review_id)
    measure = _measure(review, measure_id)
    access.require(current_user, "action_plan.edit", review)
    if request.method == "GET":
        form = _measure_form(review, MeasureForm(formdata=None))
        form.title.data = measure.title
        form.description.data = measure.description
        form.recommendations.data = [r.id for r in measure.recommendations]
        form.lead_institution.data = str(measure.lead_institution_id or "")
        form.contributors.data = [i.id for i in measure.contributors]
        form.start_date.data = measure.start_date
        form.due_date.data = measure.due_date
        form.budget_line.data = measure.budget_line
        form.status.data = str(measure.status)
        form.cancel_reason.data = measure.cancel_reason
        form.version.data = str(measure.version_id)
        return _render_measure_form(review, form, measure)
    return _save(review, _measure_form(review, MeasureForm()), measure)


@bp.route("/measures/<int:measure_id>/delete", methods=["POST"])
@login_required
def delete_measure(review_id: int, measure_id: int):
    review = _load(review_id)
    measure = _measure(review, measure_id)
    access.require(current_user, "action_plan.edit", review)
    try:
        service.delete_measure(measure, current_user, _version(request.form.get("version")))
        db.session.commit()
    except service.PlanError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
        return redirect(url_for(".measure", review_id=review.id, measure_id=measure_id))
    flash(_("Measure deleted."), "success")
    return redirect(url_for(".show", review_id=review.id, view="measure"))


def _render_measure(review, measure, *, forms=None, error=None, status=200):
    forms = forms or {}
    progress_form = forms.get("progress") or ProgressForm(formdata=None)
    progress_form.milestones.choices = choices(
        (m.id, m.title) for m in measure.milestones if m.completed_on is None
    )
    if not progress_form.version.data:
        progress_form.version.data = str(measure.version_id)
        progress_form.status.data = (
            str(measure.status) if str(measure.status) != "cancelled" else "planned"
        )
    plan = service.plan_of(review)
    return (
        render_template(
            "action_plan/measure.html",
            review=review,
            measure=measure,
            plan=plan,
            labels=LABELS,
            error=error,
            indicator_form=forms.get("indicator") or IndicatorForm(formdata=None),
            milestone_form=forms.get("milestone") or MilestoneForm(formdata=None),
            progress_form=progress_form,
            typed_values=forms.get("values", {}),
            budget=access.can(current_user, "action_plan.view_budget", review),
            editable=access.can(current_user, "action_plan.edit", review),
            reporting=access.can(current_user, "action_plan.report", review),
            accepted=evidence.accepted_labels(),
        ),
        status,
    )


@bp.route("/measures/<int:measure_id>")
@login_required
def measure(review_id: int, measure_id: int):
    review = _load(review_id)
    return _render_measure(review, _measure(review, measure_id))


def _refused(review, measure, kind, form, refused, extra=None):
    db.session.rollback()
    measure = _measure(review, measure.id)
    field = getattr(refused, "field", None)
    if field and field in form:
        form[field].errors = [*form[field].errors, str(refused)]
        error = None
    else:
        error = str(refused)
    status = 409 if isinstance(refused, service.StaleWrite) else 422
    forms = {kind: form, **(extra or {})}
    return _render_measure(review, measure, forms=forms, error=error, status=status)


@bp.route("/measures/<int:measure_id>/indicators", methods=["POST"])
@login_required
def add_indicator(review_id: int, measure_id: int):
    review = _load(review_id)
    measure = _measure(review, measure_id)
    access.require(current_user, "action_plan.edit", review)
    form = IndicatorForm()
    if not form.validate_on_submit():
        return _render_measure(review, measure, forms={"indicator": form}, status=422)
    try:
        service.add_indicator(
            measure,
            current_user,
            name=form.name.data,
            unit=form.unit.data,
            baseline=form.baseline.data,
            target=form.target.data,
            frequency=form.frequency.data,
        )
        db.session.commit()
    except service.PlanError as refused:
        return _refused(review, measure, "indicator", form, refused)
    flash(_("Indicator added."), "success")
    return redirect(url_for(".measure", review_id=review.id, measure_id=measure.id))


@bp.route("/measures/<int:measure_id>/milestones", methods=["POST"])
@login_required
def add_milestone(review_id: int, measure_id: int):
    review = _load(review_id)
    measure = _measure(review, measure_id)
    access.require(current_user, "action_plan.edit", review)
    form = MilestoneForm()
    if not form.validate_on_submit():
        return _render_measure(review, measure, forms={"milestone": form}, status=422)
    try:
        service.add_milestone(
            measure, current_user, title=form.title.data, due_date=form.due_date.data
        )
        db.session.commit()
    except service.PlanError as refused:
        return _refused(review, measure, "milestone", form, refused)
    flash(_("Milestone added."), "success")
    return redirect(url_for(".measure", review_id=review.id, measure_id=measure.id))


@bp.route("/measures/<int:measure_id>/progress", methods=["POST"])
@login_required
def report_progress(review_id: int, measure_id: int):
    review = _load(review_id)
    measure = _measure(review, measure_id)
    access.require(current_user, "action_plan.report", review)
    form = ProgressForm()
    form.milestones.choices = choices((m.id, m.title) for m in measure.milestones)
    values = {
        indicator.id: request.form.get(f"value-{indicator.id}", "")
        for indicator in measure.indicators
    }
    extra = {"values": values}
    if not form.validate_on_submit():
        return _render_measure(review, measure, forms={"progress": form, **extra}, status=422)
    try:
        service.report_progress(
            measure,
            current_user,
            narrative=form.narrative.data,
            status=form.status.data,
            values=values,
            measured_on=form.measured_on.data,
            completed_milestone_ids=form.milestones.data or [],
            uploads=request.files.getlist("files"),
            version=_version(form.version.data),
        )
        db.session.commit()
    except (service.PlanError, evidence.EvidenceRefused) as refused:
        return _refused(review, measure, "progress", form, refused, extra)
    except StaleDataError:
        return _refused(review, measure, "progress", form, service.StaleWrite(), extra)
    flash(_("Progress recorded."), "success")
    return redirect(url_for(".measure", review_id=review.id, measure_id=measure.id))


@bp.route("/institutions", methods=["POST"])
@login_required
def add_institution(review_id: int):
    review = _load(review_id)
    access.require(current_user, "action_plan.edit", review)
    form = InstitutionForm()
    back = request.form.get("back", "")
    target = back if back.startswith(f"/reviews/{review.id}/action-plan") else None
    try:
        if not form.validate_on_submit():
            raise service.PlanError(_("The form has expired; please try again."))
        institution = service.add_institution(review.state_id, form.name.data, current_user)
        db.session.commit()
    except service.PlanError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        flash(_("%(name)s is on the list of institutions.", name=institution.name), "success")
    return redirect(target or url_for(".new_measure", review_id=review.id))


@bp.route("/files/<int:file_id>")
@login_required
def evidence_file(review_id: int, file_id: int):
    """Download one progress evidence file: always an attachment, typed by the content
    recognised at upload."""
    review = _load(review_id)
    record = service.progress_file_of(review, file_id)
    if record is None:
        abort(404)
    access.require(current_user, "evidence.view", record, hide=True)
    try:
        data = evidence.stored_path(record).read_bytes()
    except FileNotFoundError:
        abort(404)
    return send_file(
        io.BytesIO(data),
        mimetype=record.content_type.partition(";")[0].strip(),
        as_attachment=True,
        download_name=record.original_name,
        conditional=False,
        etag=False,
        max_age=0,
    )


def _export_name(review: Review, ext: str) -> str:
    return f"action-plan-{review.state.code}-{review.cycle_id}.{ext}"


@bp.route("/export.csv")
@login_required
def export_csv(review_id: int):
    review = _load(review_id)
    rows = exports.action_plan_rows(
        review, budget=access.can(current_user, "action_plan.view_budget", review)
    )
    return Response(
        exports.action_plan_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(review, "csv")}"'},
    )


@bp.route("/export.xlsx")
@login_required
def export_xlsx(review_id: int):
    review = _load(review_id)
    rows = exports.action_plan_rows(
        review, budget=access.can(current_user, "action_plan.view_budget", review)
    )
    return Response(
        exports.action_plan_xlsx(rows),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name(review, "xlsx")}"'},
    )


@public_bp.route("/reports/<int:review_id>/action-plan")
def public_plan(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None or not access.can(current_user, "action_plan.public", review):
        abort(404)
    return render_template(
        "action_plan/public.html",
        review=review,
        plan=service.plan_of(review),
        labels=LABELS,
    )


@roll_up_bp.route("/action-plans")
@login_required
def roll_up():
    access.require(current_user, "action_plan.roll_up", None)
    return render_template("action_plan/roll_up.html", rows=service.roll_up(), labels=LABELS)
