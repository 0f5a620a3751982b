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
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import joinedload

from app import access
from app.extensions import db
from app.models import Recommendation, Review
from app.services import evaluation as evaluation_service
from app.services import history
from app.services import report as service
from app.services.concurrency import is_stale
from app.services.transitions import ActedFirst, apply_transition, refusal_text
from app.web.helpers import get_or_404, status_label
from app.web.report.forms import (
    FactualCommentForm,
    RecommendationEditForm,
    RecommendationForm,
    build_report_form,
)
from workflows import TransitionRefused

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
        comments_sent=history.comments_sent(review) if review.status == "factual_check" else None,
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
    except service.CommentAlreadyRecorded as same:
        db.session.rollback()
        flash(str(same), "info")
        return redirect(url_for("report.show", review_id=review.id) + "#comment-form")
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
#
# The drafting page is ONE form: the executive summary and sections, the recommendations' edit,
# delete and import buttons, and the fields of a new recommendation. Every button posts all of it
# (to its own endpoint through ``formaction``), so no button loses the text typed elsewhere on the
# page: the draft is saved in the same request as the recommendation's change.


def _page_posted() -> bool:
    """Whether the POST came from a drafting page (it carries the page's hidden version)."""
    return bool(request.form.get("base_version") or request.form.get("expected_status"))


def _draft_posted() -> bool:
    """Whether the POST carries the draft's fields (a post from the drafting page does)."""
    return "executive_summary" in request.form


def _load_for_drafting(review_id: int) -> tuple[Review, bool]:
    """The review and whether its draft may be changed now.

    404 to those who may not see the report. The lead whose page is out of date (the draft was
    submitted from another tab) gets False, so that their text is shown back (409); anyone else
    who may not draft now gets 403.
    """
    review = db.session.get(
        Review, review_id, options=[joinedload(Review.cycle), joinedload(Review.state)]
    )
    if review is None:
        abort(404)
    access.require(current_user, "report.view", review, hide=True)
    if access.can(current_user, "report.edit", review):
        return review, True
    if (
        request.method == "POST"
        and _page_posted()
        and access.can(current_user, "report.draft_author", review)
    ):
        return review, False
    if request.method == "GET" and access.can(current_user, "report.draft_author", review):
        # the lead following an old link: say why the editor is closed (issue 16, item 10)
        flash(
            _(
                "The draft report can no longer be edited: it was submitted and is now %(status)s. "
                "It can be edited again only if the secretariat returns it to the team.",
                status=status_label("review", review.status),
            ),
            "info",
        )
        abort(redirect(url_for("report.show", review_id=review.id)))
    abort(403)


def _initial_data(report, sections, agreed: dict[int, int] | None = None) -> dict:
    """The editor's fields as stored; a consensus rating not chosen yet is pre-filled with the
    rating the whole team agreed on (``agreed``, `evaluation_service.agreed_ratings`)."""
    data = {"executive_summary": report.executive_summary if report else ""}
    rows = {row.section_id: row for row in report.sections} if report else {}
    for s in sections:
        row = rows.get(s.id)
        rating = None if row is None else row.consensus_rating
        if rating is None:
            rating = (agreed or {}).get(s.id)
        data[f"consensus_{s.id}"] = "" if rating is None else str(rating)
        data[f"findings_{s.id}"] = row.findings if row else ""
        data[f"good_practices_{s.id}"] = row.good_practices if row else ""
    return data


def _stale_message() -> str:
    return _(
        "Someone saved this report after you opened it. Your text is kept below. "
        "Save again to replace what was saved."
    )


def _locked_message(review: Review) -> str:
    report = service.report_of(review)
    if report is not None and report.submitted_at is not None:
        return _(
            "This draft report was submitted and can no longer be changed here; your unsaved "
            "text is shown below so you can copy it."
        )
    return _(
        "This draft report can no longer be changed here; your unsaved text is shown below "
        "so you can copy it."
    )


def _render_edit(
    review: Review,
    sections,
    form=None,
    recommendation_form=None,
    status=200,
    conflict=None,
    locked=False,
    kept=None,
):
    evaluations = evaluation_service.submitted_evaluations(review)
    team = evaluation_service.team_assignments(review)
    if form is None:
        agreed = evaluation_service.agreed_ratings(evaluations, team)
        data = _initial_data(service.report_of(review), sections, agreed)
        form = build_report_form(sections, data=data)
        form.base_version.data = service.report_version(review)
    if recommendation_form is None:
        recommendation_form = RecommendationForm(formdata=None).fill_choices(sections)
    recommendations = service.recommendations_of(review)
    # what `service.importable_proposals` finds, from the rows already loaded (one query less)
    imported = {r.proposal_id for r in recommendations if r.proposal_id is not None}
    importable = sum(1 for e in evaluations for p in e.proposals if p.id not in imported)
    page = render_template(
        "report/edit.html",
        review=review,
        sections=sections,
        form=form,
        recommendation_form=recommendation_form,
        recommendations=recommendations,
        evaluations=evaluations,
        contributions=evaluation_service.contributions_by_section(evaluations),
        team=team,
        importable=importable,
        conflict=conflict,
        locked=locked,
        kept=kept or {},
    )
    return page, status


def _section_inputs(form, sections) -> dict[int, service.ReportSectionInput]:
    return {
        s.id: service.ReportSectionInput(
            consensus_rating=form.consensus(s.id).data,
            findings=form.findings(s.id).data or "",
            good_practices=form.good_practices(s.id).data or "",
        )
        for s in sections
    }


def _recommendation_input(form: RecommendationForm) -> service.RecommendationInput:
    return service.RecommendationInput(
        section_id=form.section_id.data,
        text=form.text.data or "",
        priority=form.priority.data,
        action_category=form.action_category.data,
        addressee=form.addressee.data,
        target_date=form.target_date.data,
    )


def _post_draft(review: Review, editable: bool, action: str, recommendation=None):
    """Handle a post of the drafting page; return the response.

    Saves the posted draft (if posted) together with ``action``: "save", "add" (a new
    recommendation; also done on any action when its text was typed), "delete"
    (``recommendation``; None if it is gone already), "import" (the team's proposals) or "edit"
    (then opens ``recommendation``'s page). Nothing is saved when anything is refused: invalid
    fields (422), a page older than the stored draft (409, with the new version so that saving
    again overwrites), a draft that can no longer be changed (409, the text shown read-only).
    """
    sections = evaluation_service.framework_sections(review)
    form = build_report_form(sections) if _draft_posted() else None
    recommendation_form = RecommendationForm().fill_choices(sections)
    adding = action == "add" or bool((recommendation_form.text.data or "").strip())

    def again(status, conflict=None, locked=False):
        return _render_edit(
            review, sections, form, recommendation_form, status, conflict=conflict, locked=locked
        )

    if not editable:
        return again(409, _locked_message(review), locked=True)
    valid = form.validate_on_submit() if form is not None else True
    if adding:
        valid = recommendation_form.validate_on_submit() and valid
    if not valid:
        flash(_("Nothing was saved: please correct the fields marked below."), "warning")
        return again(422)

    try:
        report = service.report_for_editing(review)
    except ActedFirst:
        db.session.rollback()
        return again(409, _locked_message(review), locked=True)
    if form is not None:
        current = service.report_version(review)
        if is_stale(form.base_version.data, current):
            db.session.rollback()
            form.base_version.data = current  # a deliberate second save goes through
            return again(409, _stale_message())

    messages: list[tuple[str, str]] = []  # (message, category) flashed after the commit
    try:
        if form is not None:
            service.save_report(
                report, form.executive_summary.data or "", _section_inputs(form, sections)
            )
            messages.append((_("The draft report is saved."), "success"))
        if adding:
            service.add_recommendation(
                review, _recommendation_input(recommendation_form), {s.id for s in sections}
            )
            messages.append((_("The recommendation is added."), "success"))
        if action in ("delete", "edit") and recommendation is None:
            messages.append((_("This recommendation is no longer in the report."), "info"))
        elif action == "delete":
            service.delete_recommendation(recommendation)
            messages.append((_("The recommendation is deleted."), "success"))
        elif action == "import":
            created = service.import_proposals(review)
            if created:
                message = ngettext(
                    "%(num)d proposed recommendation imported into the draft.",
                    "%(num)d proposed recommendations imported into the draft.",
                    created,
                )
                messages.append((message, "success"))
            else:
                message = _("There are no new proposed recommendations to import.")
                messages.append((message, "info"))
    except service.ReportError as error:
        db.session.rollback()
        if adding:
            field = recommendation_form[error.field]
            field.errors = [*field.errors, str(error)]
            flash(_("Nothing was saved: please correct the fields marked below."), "warning")
        else:
            flash(str(error), "warning")
        return again(422)
    db.session.commit()
    if action == "submit":
        # the draft above is saved first (its own commit), so a refusal never loses it
        try:
            apply_transition(
                current_user, review, "submit_draft_report", expected_status=review.status
            )
        except TransitionRefused as refused:
            flash(_("The draft report is saved."), "success")
            kept = {"event": "submit_draft_report", "error": refusal_text(refused.refusal)}
            return _render_edit(review, sections, status=422, kept=kept)
        flash(
            _("The draft report is saved and submitted for the state's factual check."), "success"
        )
        return redirect(url_for("reviews.show", review_id=review.id))
    for message, category in messages:
        flash(message, category)
    if action == "edit" and recommendation is not None:
        return redirect(
            url_for(
                "report.edit_recommendation",
                review_id=review.id,
                recommendation_id=recommendation.id,
            )
        )
    anchor = "" if action == "save" and not adding else "#recommendations"
    return redirect(url_for("report.edit", review_id=review.id) + anchor)


@bp.route("/edit", methods=["GET", "POST"])
@login_required
def edit(review_id: int):
    review, editable = _load_for_drafting(review_id)
    if request.method == "GET":
        return _render_edit(review, evaluation_service.framework_sections(review))
    opening = request.form.get("edit_recommendation", type=int)
    if opening is not None:
        recommendation = _own_recommendation(review, opening, gone_ok=True)
        return _post_draft(review, editable, "edit", recommendation)
    return _post_draft(review, editable, "save")


@bp.route("/submit", methods=["POST"])
@login_required
def submit_draft(review_id: int):
    """Save the posted draft, then fire ``submit_draft_report`` (lead reviewer, DESIGN §4)."""
    review, editable = _load_for_drafting(review_id)
    return _post_draft(review, editable, "submit")


@bp.route("/recommendations", methods=["POST"])
@login_required
def add_recommendation(review_id: int):
    review, editable = _load_for_drafting(review_id)
    return _post_draft(review, editable, "add")


def _own_recommendation(review: Review, recommendation_id: int, gone_ok: bool = False):
    """The review's recommendation; 404 if it belongs to another review, or does not exist
    (unless ``gone_ok``: then None, e.g. deleted meanwhile from another tab)."""
    recommendation = db.session.get(Recommendation, recommendation_id)
    if recommendation is None and gone_ok:
        return None
    if recommendation is None or recommendation.review_id != review.id:
        abort(404)
    return recommendation


def _render_recommendation(review, form, recommendation, status=200, conflict=None, locked=False):
    page = render_template(
        "report/recommendation.html",
        review=review,
        form=form,
        recommendation=recommendation,
        conflict=conflict,
        locked=locked,
    )
    return page, status


@bp.route("/recommendations/<int:recommendation_id>", methods=["GET", "POST"])
@login_required
def edit_recommendation(review_id: int, recommendation_id: int):
    review, editable = _load_for_drafting(review_id)
    recommendation = _own_recommendation(review, recommendation_id)
    sections = evaluation_service.framework_sections(review)
    if request.method == "GET":
        form = RecommendationEditForm(obj=recommendation).fill_choices(sections)
        form.base_version.data = service.recommendation_version(recommendation)
        return _render_recommendation(review, form, recommendation)
    form = RecommendationEditForm().fill_choices(sections)
    if not editable:
        return _render_recommendation(
            review, form, recommendation, 409, _locked_message(review), locked=True
        )
    if not form.validate_on_submit():
        return _render_recommendation(review, form, recommendation, 422)
    try:
        service.report_for_editing(review)
    except ActedFirst:
        db.session.rollback()
        return _render_recommendation(
            review, form, recommendation, 409, _locked_message(review), locked=True
        )
    try:
        db.session.refresh(recommendation)  # as committed, now that no one else can change it
    except InvalidRequestError:  # deleted meanwhile
        abort(404)
    current = service.recommendation_version(recommendation)
    if is_stale(form.base_version.data, current):
        db.session.rollback()
        form.base_version.data = current
        conflict = _(
            "Someone saved this recommendation after you opened it. Your text is kept below. "
            "Save again to replace what was saved."
        )
        return _render_recommendation(review, form, recommendation, 409, conflict)
    try:
        service.update_recommendation(
            review, recommendation, _recommendation_input(form), {s.id for s in sections}
        )
    except service.ReportError as error:
        db.session.rollback()
        form[error.field].errors = [*form[error.field].errors, str(error)]
        return _render_recommendation(review, form, recommendation, 422)
    db.session.commit()
    flash(_("The recommendation is saved."), "success")
    return redirect(url_for("report.edit", review_id=review.id) + "#recommendations")


@bp.route("/recommendations/<int:recommendation_id>/delete", methods=["POST"])
@login_required
def delete_recommendation(review_id: int, recommendation_id: int):
    review, editable = _load_for_drafting(review_id)
    recommendation = _own_recommendation(review, recommendation_id, gone_ok=_draft_posted())
    return _post_draft(review, editable, "delete", recommendation)


@bp.route("/import", methods=["POST"])
@login_required
def import_proposals(review_id: int):
    review, editable = _load_for_drafting(review_id)
    return _post_draft(review, editable, "import")
