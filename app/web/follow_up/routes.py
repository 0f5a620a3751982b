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
from app.web.follow_up.forms import (
    ASSESSMENT_LABELS,
    LABELS,
    AssessmentForm,
    ProgressForm,
    response_form,
)
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
    if not access.can(current_user, "response.edit", review):
        return _refuse_locked(review, recommendations, form)
    if not form.validate():
        return _render_response(review, recommendations, form), 422
    try:
        service.save_responses(
            review,
            form.response_data(recommendations),
            current_user,
            base_version=form.base_version.data,
        )
    except service.NotEditable:
        db.session.rollback()
        return _refuse_locked(review, service.recommendations_of(review), form)
    except service.ResponsesChanged as changed:
        # nothing saved; the typed text stays, the page is now based on what is stored
        db.session.rollback()
        conflict = form.changed_since_loaded(changed.versions)
        form.rebase(changed.versions)
        recommendations = service.recommendations_of(review)
        return _render_response(review, recommendations, form, conflict=conflict), 409
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


def _refuse_locked(review: Review, recommendations, form):
    """A save posted when the response can no longer be changed (submitted from another tab, or
    a second click on "Save and submit").

    The state's focal point gets the page again (409) with the typed text read-only, to copy it;
    when nothing typed differs from what is stored (a double click), a redirect with a note.
    Others: 403.
    """
    if not access.is_focal_point_of(current_user, review):
        abort(403)
    unsaved = True
    if form.validate():
        try:
            unsaved = bool(service.unsaved_responses(review, form.response_data(recommendations)))
        except service.FollowUpError:
            unsaved = True
    if not unsaved:
        if service.response_submitted(review):
            flash(_("The response has already been submitted; nothing you typed was lost."), "info")
        else:
            flash(_("The response cannot be changed now; nothing you typed was lost."), "info")
        return redirect(url_for(".response", review_id=review.id))
    return _render_response(review, recommendations, form, locked=True), 409


def _render_response(review, recommendations, form, error=None, *, conflict=None, locked=False):
    """The response page. ``conflict``: the recommendation ids whose response someone else saved
    since the posted page was loaded (a refused save); ``locked``: the response can no longer be
    changed, the posted text is shown read-only."""
    return render_template(
        "follow_up/response.html",
        review=review,
        groups=service.by_section(recommendations),
        form=form,
        error=error,
        conflict=conflict,
        locked=locked,
        submitted=service.response_submitted(review),
        editable=access.can(current_user, "response.edit", review),
        labels=LABELS,
    )


@bp.route("/follow-up")
@login_required
def show(review_id: int):
    review = _load(review_id)
    return _render_follow_up(review)


#: The two dated entries a recommendation collects in follow-up: the form, its prefix, the access
#: action, the service call, the form field a refusal attaches to, and the success message.
ENTRIES = {
    "progress": (ProgressForm, "p", "progress.post", "post_progress", "narrative"),
    "assessment": (AssessmentForm, "a", "assessment.post", "post_assessment", "note"),
}


def _post_entry(review_id: int, recommendation_id: int, kind: str, done: str):
    """Post a progress update (state) or an assessment (secretariat) on one recommendation."""
    form_class, prefix, action, operation, text_field = ENTRIES[kind]
    review = _load(review_id)
    recommendation = service.recommendation_of(review, recommendation_id)
    if recommendation is None:
        abort(404)
    access.require(current_user, action, review)
    form = form_class(prefix=f"{prefix}{recommendation.id}")
    kept = {(kind, recommendation.id): form}
    if not form.validate():
        return _render_follow_up(review, kept), 422
    extra = {"evidence": form.evidence.data or ""} if kind == "progress" else {}
    try:
        getattr(service, operation)(
            recommendation, form.status.data, form[text_field].data, current_user, **extra
        )
    except service.AlreadyRecorded as same:
        db.session.rollback()
        flash(str(same), "info")
    except service.FollowUpError as refused:
        db.session.rollback()
        form[text_field].errors = [*form[text_field].errors, str(refused)]
        return _render_follow_up(review, kept), 422
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for(".show", review_id=review.id, _anchor=f"rec-{recommendation.id}"))


@bp.route("/follow-up/<int:recommendation_id>/progress", methods=["POST"])
@login_required
def post_progress(review_id: int, recommendation_id: int):
    return _post_entry(review_id, recommendation_id, "progress", _("Progress update posted."))


@bp.route("/follow-up/<int:recommendation_id>/assessment", methods=["POST"])
@login_required
def post_assessment(review_id: int, recommendation_id: int):
    return _post_entry(review_id, recommendation_id, "assessment", _("Assessment posted."))


def _render_follow_up(review: Review, kept: dict | None = None):
    """The follow-up page; ``kept`` holds a refused form (by kind and recommendation id) so that
    its typed text is shown again with the messages."""
    kept = kept or {}
    recommendations = service.recommendations_of(review)
    total = len(recommendations)
    choices = [service.NOT_ASSESSED, *ASSESSMENT_LABELS]
    wanted = request.args.get("assessment", "")
    ignored = bool(wanted) and wanted not in choices
    if wanted and not ignored:
        recommendations = [r for r in recommendations if service.latest_assessment_is(r, wanted)]
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
        total=total,
        shown=len(recommendations),
        assessment_filter={"value": "" if ignored else wanted, "ignored": ignored},
    )
