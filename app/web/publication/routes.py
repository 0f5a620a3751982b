"""Publication consent and mid-term reports of one review (issue 5).

A focal point of the reviewed state decides what may be published once the report is adopted;
the secretariat sees the decision and its history. The secretariat generates and publishes
mid-term reports; the state's focal points read them. Outsiders of the review get a 404.
"""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import Review
from app.services import midterm as midterm_service
from app.services import publication as service
from app.services import worklist
from app.web.follow_up.forms import LABELS
from app.web.helpers import format_date, get_or_404
from app.web.publication.forms import CONSENT_HELP, CONSENT_LABELS, ActionForm, ConsentForm

bp = Blueprint("publication", __name__, url_prefix="/reviews/<int:review_id>")


@bp.app_template_filter("iso_day")
def iso_day(value: str | None) -> str:
    """``12 Mar 2027`` from an ISO-8601 date or UTC instant stored in a snapshot."""
    if not value:
        return "—"
    return format_date(datetime.fromisoformat(value).date())


def _load(review_id: int, action: str) -> Review:
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    access.require(current_user, action, review, hide=True)
    return review


@bp.route("/publication", methods=["GET", "POST"])
@login_required
def consent(review_id: int):
    review = _load(review_id, "publication.view")
    current = service.consent_of(review)
    form = ConsentForm(data={"level": current.value})
    error = None
    if request.method == "POST":
        access.require(current_user, "publication.set", review)
        form = ConsentForm()
        if form.validate():
            try:
                changed = service.set_consent(review, form.level.data, current_user)
            except service.PublicationError as refused:
                db.session.rollback()
                error = str(refused)
            else:
                db.session.commit()
                flash(
                    _("Publication decision saved.") if changed else _("Nothing changed."),
                    "success" if changed else "info",
                )
                return redirect(url_for(".consent", review_id=review.id))
        return _render_consent(review, form, error), 422
    return _render_consent(review, form, error)


def _render_consent(review: Review, form: ConsentForm, error: str | None):
    return render_template(
        "publication/consent.html",
        review=review,
        form=form,
        error=error,
        current=service.consent_of(review),
        published=service.published_level(review),
        history=service.consent_history(review),
        labels=CONSENT_LABELS,
        help=CONSENT_HELP,
    )


@bp.route("/mid-term", methods=["GET", "POST"])
@login_required
def midterms(review_id: int):
    review = _load(review_id, "midterm.view")
    if request.method == "POST":
        access.require(current_user, "midterm.manage", review)
        form = ActionForm()
        if not form.validate():
            abort(400)
        try:
            snapshot = midterm_service.generate(review, current_user)
        except midterm_service.Unchanged as same:
            db.session.rollback()
            flash(str(same), "info")
            return redirect(url_for(".midterm", review_id=review.id, version=same.version))
        except midterm_service.MidtermError as refused:
            db.session.rollback()
            flash(str(refused), "danger")
            return redirect(url_for(".midterms", review_id=review.id))
        db.session.commit()
        flash(_("Mid-term report version %(n)d generated.", n=snapshot.version), "success")
        return redirect(url_for(".midterm", review_id=review.id, version=snapshot.version))
    return render_template(
        "publication/midterms.html",
        review=review,
        versions=midterm_service.versions_of(review),
        form=ActionForm(),
        published=service.published_level(review),
    )


@bp.route("/mid-term/<int:version>")
@login_required
def midterm(review_id: int, version: int):
    review = _load(review_id, "midterm.view")
    snapshot = midterm_service.version_of(review, version)
    if snapshot is None:
        abort(404)
    if worklist.mark_midterm_seen(current_user, review):  # the home page stops announcing it
        db.session.commit()
    return render_template(
        "publication/midterm.html",
        review=review,
        snapshot=snapshot,
        form=ActionForm(),
        labels=LABELS,
        published=service.published_level(review),
    )


@bp.route("/mid-term/<int:version>/publish", methods=["POST"])
@login_required
def publish_midterm(review_id: int, version: int):
    review = _load(review_id, "midterm.view")
    access.require(current_user, "midterm.manage", review)
    snapshot = midterm_service.version_of(review, version)
    if snapshot is None:
        abort(404)
    form = ActionForm()
    if not form.validate():
        abort(400)
    if midterm_service.publish(snapshot, current_user):
        db.session.commit()
        flash(_("Mid-term report version %(n)d published.", n=snapshot.version), "success")
    else:
        flash(_("This version was already published."), "info")
    return redirect(url_for(".midterm", review_id=review.id, version=snapshot.version))
