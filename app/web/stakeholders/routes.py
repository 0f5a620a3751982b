"""Stakeholder submission pages (issue 18): a stakeholder's home and its submissions, the
secretariat's screening and per-section summaries, the review team's reading of accepted
submissions beside the self-assessment, the state's view of the summaries only, and the
secretariat's page of stakeholder accounts.

An anonymous organisation is named only through `stakeholders.author_label`, and its files are
served under a neutral name (`stakeholders.file_name_for`) to anyone but itself and the
secretariat.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import access
from app.extensions import db
from app.models import (
    STAKEHOLDER_KIND_LABELS,
    Review,
    Role,
    StakeholderSubmission,
    SubmissionFile,
    SubmissionStatus,
)
from app.services import evidence
from app.services import stakeholders as service
from app.web.assistance.routes import organisation_accounts
from app.web.helpers import get_or_404
from app.web.stakeholders.forms import ScreeningForm, SubmissionForm, SummaryForm
from workflows.base import N_

bp = Blueprint("stakeholders", __name__)

STATUS_LABELS = {
    SubmissionStatus.SUBMITTED: N_("Awaiting screening"),
    SubmissionStatus.CHANGES_REQUESTED: N_("Changes requested"),
    SubmissionStatus.ACCEPTED: N_("Accepted"),
    SubmissionStatus.REJECTED: N_("Rejected"),
}


@bp.record_once
def _template_globals(setup) -> None:
    # the only ways a page names a submission's author or file (anonymity, DESIGN §5)
    setup.app.jinja_env.globals.update(
        submission_status_labels=STATUS_LABELS,
        submission_author=lambda s: service.author_label(s, current_user),
        submission_file_name=lambda f, s: service.file_name_for(f, s, current_user),
    )


@bp.route("/submissions")
@login_required
def index():
    """A stakeholder's home: reviews open to submissions and its own submissions; the
    secretariat's queue of submissions awaiting screening."""
    if access.can(current_user, "submission.home"):
        return render_template(
            "stakeholders/index.html",
            open_reviews=service.open_reviews(),
            mine=service.submissions_of(current_user),
        )
    access.require(current_user, "admin")
    return render_template("stakeholders/queue.html", queue=service.awaiting_screening())


def _texts(review: Review) -> dict[int, str]:
    return {
        section.id: request.form.get(f"section-{section.id}", "")
        for section in service.sections_of(review)
    }


def _render_form(review, form, texts, submission=None, error=None, status=200):
    return render_template(
        "stakeholders/form.html",
        review=review,
        form=form,
        texts=texts,
        sections=service.sections_of(review),
        submission=submission,
        error=error,
    ), status


@bp.route("/reviews/<int:review_id>/submissions/new", methods=["GET", "POST"])
@login_required
def submission_new(review_id: int):
    review = get_or_404(Review, review_id)
    access.require(current_user, "submission.create", review, hide=True)
    form = SubmissionForm()
    if request.method != "POST":
        return _render_form(review, form, {})
    texts = _texts(review)
    try:
        submission = service.submit(
            review,
            current_user,
            anonymous=form.identity.data != "named",
            texts=texts,
            uploads=request.files.getlist(form.files.name),
        )
    except service.SubmissionError as refused:
        db.session.rollback()
        return _render_form(review, form, texts, error=str(refused), status=422)
    db.session.commit()
    flash(_("Submission sent. The secretariat will screen it."), "success")
    return redirect(url_for(".submission_show", submission_id=submission.id))


def _load(submission_id: int) -> StakeholderSubmission:
    submission = get_or_404(StakeholderSubmission, submission_id)
    access.require(current_user, "submission.view", submission, hide=True)
    return submission


@bp.route("/submissions/<int:submission_id>/edit", methods=["GET", "POST"])
@login_required
def submission_edit(submission_id: int):
    submission = _load(submission_id)
    access.require(current_user, "submission.edit", submission)
    review = submission.review
    form = SubmissionForm()
    if request.method != "POST":
        form.identity.data = "anonymous" if submission.anonymous else "named"
        texts = {part.section_id: part.body for part in submission.sections}
        return _render_form(review, form, texts, submission)
    texts = _texts(review)
    try:
        service.revise(
            submission,
            current_user,
            anonymous=form.identity.data != "named",
            texts=texts,
            uploads=request.files.getlist(form.files.name),
        )
    except service.SubmissionError as refused:
        db.session.rollback()
        return _render_form(review, form, texts, submission, error=str(refused), status=422)
    db.session.commit()
    flash(_("Submission sent again. The secretariat will screen it."), "success")
    return redirect(url_for(".submission_show", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>")
@login_required
def submission_show(submission_id: int, form=None, error=None, status=200):
    submission = _load(submission_id)
    return render_template(
        "stakeholders/show.html",
        submission=submission,
        form=form or ScreeningForm(formdata=None),
        error=error,
        kind_labels=STAKEHOLDER_KIND_LABELS,
    ), status


@bp.route("/submissions/<int:submission_id>/screen", methods=["POST"])
@login_required
def submission_screen(submission_id: int):
    submission = _load(submission_id)
    access.require(current_user, "submission.screen", submission)
    form = ScreeningForm()
    try:
        service.screen(submission, current_user, form.decision.data or "", form.reason.data)
    except service.SubmissionError as refused:
        db.session.rollback()
        return submission_show(submission_id, form=form, error=str(refused), status=422)
    db.session.commit()
    flash(_("Screening recorded."), "success")
    return redirect(url_for(".submission_show", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/files/<int:file_id>")
@login_required
def submission_file(submission_id: int, file_id: int):
    submission = _load(submission_id)
    record = get_or_404(SubmissionFile, file_id)
    if record.submission_id != submission.id:
        return ("", 404)
    try:
        path = evidence.stored_key_path(record.storage_key)
    except FileNotFoundError:
        return ("", 404)
    return send_file(
        path,
        mimetype=record.content_type,
        as_attachment=True,
        download_name=service.file_name_for(record, submission, current_user),
    )


@bp.route("/reviews/<int:review_id>/stakeholders")
@login_required
def review_submissions(review_id: int):
    """Per framework section: the secretariat's summary (the state reads only this) and, for the
    secretariat and the review team, the accepted submissions themselves."""
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    access.require(current_user, "submissions.summary_view", review, hide=True)
    full = access.can(current_user, "submissions.list", review)
    return render_template(
        "stakeholders/review.html",
        review=review,
        sections=service.sections_of(review),
        summaries=service.summaries(review),
        accepted=service.accepted_by_section(review) if full else {},
        others=service.submissions_on(review, accepted_only=False)
        if access.can(current_user, "admin")
        else [],
        full=full,
        form=SummaryForm(formdata=None),
    )


@bp.route("/reviews/<int:review_id>/stakeholders/summary/<int:section_id>", methods=["POST"])
@login_required
def summary_save(review_id: int, section_id: int):
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    access.require(current_user, "submissions.summary_edit", review, hide=True)
    form = SummaryForm()
    try:
        service.save_summary(review, section_id, form.body.data or "", current_user)
    except service.SubmissionError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        db.session.commit()
        flash(_("Summary saved."), "success")
    return redirect(url_for(".review_submissions", review_id=review.id) + f"#s{section_id}")


@bp.route("/admin/stakeholders", methods=["GET", "POST"])
@login_required
def accounts():
    return organisation_accounts(
        Role.STAKEHOLDER,
        [SelectChoice(kind.value, _(label)) for kind, label in STAKEHOLDER_KIND_LABELS.items()],
    )
