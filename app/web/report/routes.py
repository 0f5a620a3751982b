"""The peer-review report: drafting by the lead reviewer, factual comments by the state.

Access (DESIGN §5, rules in ``app/access.py``): the secretariat and the accepted team see the
report; the reviewed state's focal points only from factual_check on; everyone else gets 404.
Only the lead reviewer drafts, while the review is in evaluation. The state's factual-accuracy
comments are kept as separate rows beside the findings, never merged into them. Review events
(submit_draft_report, submit_factual_comments, adopt_report, return_draft_report) are posted to
``reviews.fire``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import Recommendation, Review
from app.services import evaluation as evaluation_service
from app.services import report as service
from app.web.helpers import get_or_404
from app.web.report.forms import FactualCommentForm, RecommendationForm, build_report_form

bp = Blueprint("report", __name__, url_prefix="/reviews/<int:review_id>/report")


def _load(review_id: int, action: str) -> Review:
    """The review, if the user may see its report (else 404) and may do ``action`` (else 403)."""
    review = get_or_404(Review, review_id)
    access.require(current_user, "report.view", review, hide=True)
    if action != "report.view":
        access.require(current_user, action, review)
    return review


# --- reading and commenting ----------------------------------------------------------------


def _render_show(review: Review, comment_form: FactualCommentForm | None = None, status=200):
    sections = evaluation_service.framework_sections(review)
    report = service.report_of(review)
    rows, comments, general = {}, {}, []
    if report is not None:
        rows = {row.section_id: row for row in report.sections}
        for comment in report.comments:
            if comment.section_id is None:
                general.append(comment)
            else:
                comments.setdefault(comment.section_id, []).append(comment)
    if comment_form is None and access.can(current_user, "report.comment", review):
        comment_form = FactualCommentForm(
            formdata=None, section_id=request.args.get("comment_on", type=int)
        ).fill_choices(sections)
    page = render_template(
        "report/show.html",
        review=review,
        report=report,
        sections=sections,
        rows=rows,
        comments=comments,
        general_comments=general,
        recommendations=service.recommendations_of(review),
        comment_form=comment_form,
    )
    return page, status


@bp.route("")
@login_required
def show(review_id: int):
    review = _load(review_id, "report.view")
    return _render_show(review)


@bp.route("/comments", methods=["POST"])
@login_required
def add_comment(review_id: int):
    review = _load(review_id, "report.comment")
    sections = evaluation_service.framework_sections(review)
    form = FactualCommentForm().fill_choices(sections)
    if not form.validate_on_submit():
        return _render_show(review, form, status=422)
    report = service.get_or_create_report(review)
    try:
        service.add_factual_comment(
            report, current_user, form.body.data, form.section_id.data, {s.id for s in sections}
        )
    except service.ReportError as error:
        db.session.rollback()
        form.body.errors = [*form.body.errors, str(error)]
        return _render_show(review, form, status=422)
    db.session.commit()
    flash(
        _("Your comment is added. Send the comments when you have finished."),
        "success",
    )
    return redirect(url_for("report.show", review_id=review.id) + "#comment-form")


# --- drafting by the lead reviewer ---------------------------------------------------------


def _initial_data(report, sections) -> dict:
    data = {"executive_summary": report.executive_summary if report else ""}
    rows = {row.section_id: row for row in report.sections} if report else {}
    for s in sections:
        row = rows.get(s.id)
        rating = None if row is None else row.consensus_rating
        data[f"consensus_{s.id}"] = "" if rating is None else str(rating)
        data[f"findings_{s.id}"] = row.findings if row else ""
        data[f"good_practices_{s.id}"] = row.good_practices if row else ""
    return data


def _render_edit(review: Review, sections, form=None, recommendation_form=None, status=200):
    if form is None:
        form = build_report_form(sections, data=_initial_data(service.report_of(review), sections))
    if recommendation_form is None:
        recommendation_form = RecommendationForm(formdata=None).fill_choices(sections)
    evaluations = evaluation_service.submitted_evaluations(review)
    team = evaluation_service.team_assignments(review)
    page = render_template(
        "report/edit.html",
        review=review,
        sections=sections,
        form=form,
        recommendation_form=recommendation_form,
        recommendations=service.recommendations_of(review),
        evaluations=evaluations,
        contributions=evaluation_service.contributions_by_section(evaluations),
        team=team,
        importable=len(service.importable_proposals(review)),
    )
    return page, status


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def edit(review_id: int):
    review = _load(review_id, "report.edit")
    sections = evaluation_service.framework_sections(review)
    if request.method == "GET":
        return _render_edit(review, sections)
    form = build_report_form(sections)
    if not form.validate_on_submit():
        flash(_("Nothing was saved: please correct the fields marked below."), "warning")
        return _render_edit(review, sections, form=form, status=422)
    report = service.get_or_create_report(review)
    service.save_report(
        report,
        form.executive_summary.data or "",
        {
            s.id: service.ReportSectionInput(
                consensus_rating=form.consensus(s.id).data,
                findings=form.findings(s.id).data or "",
                good_practices=form.good_practices(s.id).data or "",
            )
            for s in sections
        },
    )
    db.session.commit()
    flash(_("The draft report is saved."), "success")
    return redirect(url_for("report.edit", review_id=review.id))


def _recommendation_input(form: RecommendationForm) -> service.RecommendationInput:
    return service.RecommendationInput(
        section_id=form.section_id.data,
        text=form.text.data or "",
        priority=form.priority.data,
        action_category=form.action_category.data,
        addressee=form.addressee.data,
        target_date=form.target_date.data,
    )


@bp.route("/recommendations", methods=["POST"])
@login_required
def add_recommendation(review_id: int):
    review = _load(review_id, "report.edit")
    sections = evaluation_service.framework_sections(review)
    form = RecommendationForm().fill_choices(sections)
    if not form.validate_on_submit():
        flash(_("The recommendation was not added: please correct the fields marked."), "warning")
        return _render_edit(review, sections, recommendation_form=form, status=422)
    try:
        service.get_or_create_report(review)
        service.add_recommendation(review, _recommendation_input(form), {s.id for s in sections})
    except service.ReportError as error:
        db.session.rollback()
        form.text.errors = [*form.text.errors, str(error)]
        return _render_edit(review, sections, recommendation_form=form, status=422)
    db.session.commit()
    flash(_("The recommendation is added."), "success")
    return redirect(url_for("report.edit", review_id=review.id) + "#recommendations")


def _own_recommendation(review: Review, recommendation_id: int) -> Recommendation:
    recommendation = get_or_404(Recommendation, recommendation_id)
    if recommendation.review_id != review.id:
        abort(404)
    return recommendation


@bp.route("/recommendations/<int:recommendation_id>", methods=["GET", "POST"])
@login_required
def edit_recommendation(review_id: int, recommendation_id: int):
    review = _load(review_id, "report.edit")
    recommendation = _own_recommendation(review, recommendation_id)
    sections = evaluation_service.framework_sections(review)
    if request.method == "GET":
        form = RecommendationForm(obj=recommendation).fill_choices(sections)
        return render_template(
            "report/recommendation.html", review=review, form=form, recommendation=recommendation
        )
    form = RecommendationForm().fill_choices(sections)
    status = 422
    if form.validate_on_submit():
        try:
            service.update_recommendation(
                recommendation, _recommendation_input(form), {s.id for s in sections}
            )
        except service.ReportError as error:
            db.session.rollback()
            form.text.errors = [*form.text.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The recommendation is saved."), "success")
            return redirect(url_for("report.edit", review_id=review.id) + "#recommendations")
    page = render_template(
        "report/recommendation.html", review=review, form=form, recommendation=recommendation
    )
    return page, status


@bp.route("/recommendations/<int:recommendation_id>/delete", methods=["POST"])
@login_required
def delete_recommendation(review_id: int, recommendation_id: int):
    review = _load(review_id, "report.edit")
    recommendation = _own_recommendation(review, recommendation_id)
    try:
        service.delete_recommendation(recommendation)
    except service.ReportError as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("report.edit", review_id=review.id) + "#recommendations")
    db.session.commit()
    flash(_("The recommendation is deleted."), "success")
    return redirect(url_for("report.edit", review_id=review.id) + "#recommendations")


@bp.route("/import", methods=["POST"])
@login_required
def import_proposals(review_id: int):
    review = _load(review_id, "report.edit")
    created = service.import_proposals(review)
    db.session.commit()
    if created:
        flash(
            _("%(count)d proposed recommendation(s) imported into the draft.", count=created),
            "success",
        )
    else:
        flash(_("There are no new proposed recommendations to import."), "info")
    return redirect(url_for("report.edit", review_id=review.id) + "#recommendations")
