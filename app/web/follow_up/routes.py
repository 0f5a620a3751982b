"""Response to recommendations, progress updates and implementation assessments (DESIGN §3–§5).

Everyone who may read the report (``report.view``) reads these pages; others get a 404. The
focal point answers each recommendation while the review is in response and reports progress in
(enhanced) follow-up; the secretariat assesses implementation in (enhanced) follow-up.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import Review
from app.services import follow_up as service
from app.web.events import fire_from_form
from app.web.follow_up.forms import LABELS, AssessmentForm, ProgressForm, response_form
from app.web.helpers import get_or_404

bp = Blueprint("follow_up", __name__, url_prefix="/reviews/<int:review_id>")


def _load(review_id: int) -> Review:
    review = get_or_404(Review, review_id)
    access.require(current_user, "report.view", review, hide=True)
    return review


@bp.route("/response", methods=["GET", "POST"])
@login_required
def response(review_id: int):
    review = _load(review_id)
    recommendations = service.recommendations_of(review)
    form = response_form(recommendations)
    if request.method == "GET":
        return _render_response(review, recommendations, form)
    access.require(current_user, "response.edit", review)
    if not form.validate():
        return _render_response(review, recommendations, form), 422
    try:
        service.save_responses(review, form.response_data(recommendations), current_user)
    except service.FollowUpError as refused:
        db.session.rollback()
        return _render_response(review, service.recommendations_of(review), form, str(refused)), 422
    if form.submit.data:
        # saved rows and the event commit together, or nothing does (the form keeps the text)
        return fire_from_form(
            review,
            "submit_response",
            url_for(".response", review_id=review.id),
            lambda kept: _render_response(
                review, service.recommendations_of(review), form, kept.get("error")
            ),
        )
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for(".response", review_id=review.id))


def _render_response(review, recommendations, form, error=None):
    return render_template(
        "follow_up/response.html",
        review=review,
        groups=service.by_section(recommendations),
        form=form,
        error=error,
        editable=access.can(current_user, "response.edit", review),
        labels=LABELS,
    )


@bp.route("/follow-up")
@login_required
def show(review_id: int):
    review = _load(review_id)
    return _render_follow_up(review)


@bp.route("/follow-up/<int:recommendation_id>/progress", methods=["POST"])
@login_required
def post_progress(review_id: int, recommendation_id: int):
    review = _load(review_id)
    recommendation = service.recommendation_of(review, recommendation_id)
    if recommendation is None:
        abort(404)
    access.require(current_user, "progress.post", review)
    form = ProgressForm(prefix=f"p{recommendation.id}")
    if not form.validate():
        return _render_follow_up(review, {("progress", recommendation.id): form}), 422
    service.post_progress(recommendation, form.status.data, form.narrative.data, current_user)
    db.session.commit()
    flash(_("Progress update posted."), "success")
    return redirect(url_for(".show", review_id=review.id, _anchor=f"rec-{recommendation.id}"))


@bp.route("/follow-up/<int:recommendation_id>/assessment", methods=["POST"])
@login_required
def post_assessment(review_id: int, recommendation_id: int):
    review = _load(review_id)
    recommendation = service.recommendation_of(review, recommendation_id)
    if recommendation is None:
        abort(404)
    access.require(current_user, "assessment.post", review)
    form = AssessmentForm(prefix=f"a{recommendation.id}")
    if not form.validate():
        return _render_follow_up(review, {("assessment", recommendation.id): form}), 422
    service.post_assessment(recommendation, form.status.data, form.note.data, current_user)
    db.session.commit()
    flash(_("Assessment posted."), "success")
    return redirect(url_for(".show", review_id=review.id, _anchor=f"rec-{recommendation.id}"))


def _render_follow_up(review: Review, kept: dict | None = None):
    """The follow-up page; ``kept`` holds a refused form (by kind and recommendation id) so that
    its typed text is shown again with the messages."""
    kept = kept or {}
    recommendations = service.recommendations_of(review)
    may_progress = access.can(current_user, "progress.post", review)
    may_assess = access.can(current_user, "assessment.post", review)
    forms = {}
    for recommendation in recommendations:
        if may_progress:
            key = ("progress", recommendation.id)
            forms[key] = kept.get(key) or ProgressForm(
                formdata=None, prefix=f"p{recommendation.id}"
            )
        if may_assess:
            key = ("assessment", recommendation.id)
            forms[key] = kept.get(key) or AssessmentForm(
                formdata=None, prefix=f"a{recommendation.id}"
            )
    return render_template(
        "follow_up/show.html",
        review=review,
        groups=service.by_section(recommendations),
        forms=forms,
        labels=LABELS,
    )
