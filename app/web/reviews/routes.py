"""The review page: phase tracker, deadlines (and their changes), history, and the actions the
viewer may take."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import access
from app.extensions import db
from app.models import Assignment, Review, TransitionLog, User
from app.services import deadlines as deadline_service
from app.services import guidance, notifications, reminders, upr_import
from app.services.cycles import STAGES, SetupError
from app.services.worklist import STAGE_OF_STATUS
from app.web.events import fire_from_form
from app.web.helpers import diagram_page, get_or_404
from app.web.reviews.forms import DeadlineForm, deadline_form
from workflows import REVIEW

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


STAGE_ORDER = [stage for stage, _attribute in STAGES]


def _render(review: Review, kept: dict | None = None, posted: DeadlineForm | None = None):
    """The review page; ``posted`` is a refused deadline form, shown back as typed."""
    history = []
    if access.can(current_user, "review.view_history", review):
        history = db.session.scalars(
            select(TransitionLog)
            .where(TransitionLog.subject_type == "review", TransitionLog.subject_id == review.id)
            .options(joinedload(TransitionLog.actor).joinedload(User.state))
            .order_by(TransitionLog.created_at, TransitionLog.id)
        ).all()
    team = []
    if access.can(current_user, "evaluation.list", review):
        team = db.session.scalars(
            select(Assignment)
            .where(Assignment.review_id == review.id)
            .options(joinedload(Assignment.reviewer).joinedload(User.state))
            .order_by(Assignment.id)
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
    deadlines = sorted(
        review.deadlines,
        key=lambda d: STAGE_ORDER.index(d.stage) if d.stage in STAGE_ORDER else len(STAGE_ORDER),
    )
    forms = {}
    if access.can(current_user, "deadline.edit", review):
        zone = review.cycle.time_zone
        forms = {d.stage: deadline_form(d, zone) for d in deadlines}
        if posted is not None:
            stage = posted._prefix.rstrip("-")
            # shown again with the value now stored, so resubmitting is a deliberate choice
            posted.expected.data = forms[stage].expected.data
            forms[stage] = posted
    changes = []
    if access.can(current_user, "review.view_history", review):
        changes = deadline_service.changes_of(review)
    reminder_summary = {}
    if access.can(current_user, "reminders.view", review):
        reminder_summary = reminders.summary_for(review)
    return diagram_page(
        render_template(
            "reviews/show.html",
            prior=prior,
            review=review,
            deadlines=deadlines,
            current_stage=STAGE_OF_STATUS.get(review.status),
            deadline_forms=forms,
            deadline_changes=changes,
            reminder_summary=reminder_summary,
            history=history,
            team=team,
            # invitations whose e-mail failed: the secretariat's to act on (issue 6)
            undelivered=(
                notifications.undelivered_invitations(review)
                if team and access.can(current_user, "reminders.view", review)
                else {}
            ),
            own_assignment=access.assignment_of(current_user, review),
            next_step=guidance.next_step(current_user, review),
            kept=kept or {},
            review_machine=REVIEW,
        )
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


@bp.route("/<int:review_id>/deadlines/<stage>", methods=["POST"])
@login_required
def change_deadline(review_id: int, stage: str):
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    access.require(current_user, "deadline.edit", review)
    if stage not in STAGE_ORDER:
        abort(404)
    form = DeadlineForm(prefix=stage)
    if not form.validate_on_submit():
        return _render(review, posted=form), 422
    try:
        change = deadline_service.change_deadline(
            current_user,
            review,
            stage,
            form.day.data,
            form.at.data,
            form.reason.data,
            expected_due_at=form.expected_instant(),
            allow_past=bool(form.confirm_past.data),
        )
    except SetupError as refused:
        db.session.rollback()
        form.refusal = str(refused)
        form.asks_past_confirmation = isinstance(refused, deadline_service.DeadlineInPast)
        status = 409 if isinstance(refused, deadline_service.DeadlineMoved) else 422
        return _render(review, posted=form), status
    db.session.commit()
    if change is None:
        flash(_("The deadline already was at that date; nothing changed."), "info")
    else:
        flash(_("Deadline changed; the change and its reason are on the record."), "success")
    return redirect(url_for("reviews.show", review_id=review.id) + "#deadlines-h")
