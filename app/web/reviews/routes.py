"""The review page: phase tracker, deadlines, history, and the actions the viewer may take."""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app import access
from app.extensions import db
from app.models import Assignment, Review, TransitionLog
from app.services import upr_import
from app.web.events import fire_from_form
from app.web.helpers import get_or_404

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def _render(review: Review, kept: dict | None = None):
    history = []
    if access.can(current_user, "review.view_history", review):
        history = db.session.scalars(
            select(TransitionLog)
            .where(TransitionLog.subject_type == "review", TransitionLog.subject_id == review.id)
            .order_by(TransitionLog.created_at, TransitionLog.id)
        ).all()
    team = []
    if access.can(current_user, "evaluation.list", review):
        team = db.session.scalars(
            select(Assignment).where(Assignment.review_id == review.id).order_by(Assignment.id)
        ).all()
    prior = None
    if access.can(current_user, "prior_recommendations.view", review):
        chosen = {
            "issue": request.args.get("issue", "").strip(),
            "response": request.args.get("response", "").strip(),
        }
        prior = {
            "rows": upr_import.prior_recommendations_of(review.state, **chosen),
            "issues": upr_import.issues_of(review.state),
            "chosen": chosen,
        }
    return render_template(
        "reviews/show.html",
        prior=prior,
        review=review,
        history=history,
        team=team,
        own_assignment=access.assignment_of(current_user, review),
        kept=kept or {},
    )


@bp.route("/<int:review_id>")
@login_required
def show(review_id: int):
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    return _render(review)


@bp.route("/<int:review_id>/events/<event>", methods=["POST"])
@login_required
def fire(review_id: int, event: str):
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    return fire_from_form(
        review,
        event,
        url_for("reviews.show", review_id=review.id),
        lambda kept: _render(review, kept),
    )
