"""A peer reviewer's assignment: the invitation, the evaluation form and the evaluation view.

Access (DESIGN §5, rules in ``app/access.py``): an invited reviewer sees only the reviewed state,
cycle, regional group, deadlines and their role, to decide and to declare conflicts; withdrawn,
declined or conflicted reviewers see nothing (404). Assignment events (accept, decline,
declare_conflict, submit_evaluation, return_evaluation, withdraw_assignment, reinstate) are posted
to `fire` and go through the transition service.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import access
from app.extensions import db
from app.models import ASSISTANCE_KINDS, Assignment, Review
from app.services import evaluation as service
from app.services import evidence
from app.services import self_assessment as self_assessment_service
from app.services.concurrency import is_stale
from app.services.transitions import ActedFirst, apply_transition, refusal_text
from app.web.evaluation.forms import build_evaluation_form
from app.web.events import fire_from_form
from app.web.helpers import get_or_404, safe_next
from app.web.self_assessment.forms import CHOICE_LABELS
from workflows import AssignmentStatus, InvalidTransition, TransitionRefused

bp = Blueprint("evaluation", __name__, url_prefix="/assignments")

#: Values a ticked HTML checkbox may post.
TICKED = {"y", "yes", "on", "1", "true"}


def _render_invitation(assignment: Assignment, kept: dict | None = None):
    return render_template(
        "evaluation/invitation.html",
        assignment=assignment,
        review=assignment.review,
        kept=kept or {},
    )


def _render_view(assignment: Assignment, kept: dict | None = None):
    return render_template(
        "evaluation/show.html",
        assignment=assignment,
        review=assignment.review,
        evaluation=service.evaluation_of(assignment),
        sections=service.framework_sections(assignment.review),
        kept=kept or {},
    )


@bp.route("/<int:assignment_id>")
@login_required
def invitation(assignment_id: int):
    assignment = get_or_404(Assignment, assignment_id)
    access.require(current_user, "assignment.view", assignment, hide=True)
    return _render_invitation(assignment)


def _success_url(assignment: Assignment, event: str) -> str:
    """Where to go after ``event``: a posted ``next``, else the page that still makes sense."""
    posted = safe_next(request.form.get("next"))
    if posted:
        return posted
    if event in ("decline", "declare_conflict"):
        return url_for("main.home")  # the reviewer no longer has access to the assignment
    if event in ("withdraw_assignment", "reinstate"):
        return url_for("admin.review_team", review_id=assignment.review_id)
    if event in ("submit_evaluation", "return_evaluation"):
        return url_for("evaluation.show", assignment_id=assignment.id)
    return url_for("evaluation.invitation", assignment_id=assignment.id)


@bp.route("/<int:assignment_id>/events/<event>", methods=["POST"])
@login_required
def fire(assignment_id: int, event: str):
    assignment = get_or_404(Assignment, assignment_id)
    access.require(current_user, "assignment.fire", assignment, hide=True)
    facts = None
    if event == "accept":
        facts = {"no_conflict": request.form.get("no_conflict", "").lower() in TICKED}

    def render_again(kept: dict):
        if event != "return_evaluation" and access.can(current_user, "assignment.view", assignment):
            return _render_invitation(assignment, kept)
        return _render_view(assignment, kept)

    return fire_from_form(
        assignment, event, _success_url(assignment, event), render_again, facts=facts
    )


def _section_inputs(form, sections) -> dict[int, service.SectionInput]:
    return {
        s.id: service.SectionInput(
            rating=form.rating(s.id).data,
            findings=form.findings(s.id).data or "",
            good_practices=form.good_practices(s.id).data or "",
        )
        for s in sections
    }


def _initial_data(evaluation, sections) -> dict:
    data = {"summary": evaluation.summary if evaluation else ""}
    rows = {row.section_id: row for row in evaluation.sections} if evaluation else {}
    for s in sections:
        row = rows.get(s.id)
        data[f"rating_{s.id}"] = "" if row is None or row.rating is None else str(row.rating)
        data[f"findings_{s.id}"] = row.findings if row else ""
        data[f"good_practices_{s.id}"] = row.good_practices if row else ""
    return data


def _unsaved_elsewhere(form, evaluation, sections, saved_section_id: int) -> bool:
    """Whether ``form`` holds text or ratings, outside section ``saved_section_id``, that differ
    from what ``evaluation`` stores (the summary and the other sections; proposals not counted)."""
    stored = _initial_data(evaluation, sections)
    posted = {"summary": form.summary.data or ""}
    for s in sections:
        if s.id == saved_section_id:
            continue
        rating = form.rating(s.id).data
        posted[f"rating_{s.id}"] = "" if rating is None else str(rating)
        posted[f"findings_{s.id}"] = form.findings(s.id).data or ""
        posted[f"good_practices_{s.id}"] = form.good_practices(s.id).data or ""
    return any((stored.get(key) or "").strip() != value.strip() for key, value in posted.items())


def _section_valid(form, section_id: int) -> bool:
    """Whether the page's hidden fields and section ``section_id``'s fields passed validation
    (run `validate_on_submit` first); errors elsewhere do not stop a per-section save."""
    names = ("csrf_token", "expected_status", "base_version")
    names += (f"rating_{section_id}", f"findings_{section_id}", f"good_practices_{section_id}")
    return not any(form[name].errors for name in names if name in form)


def _state_answers(review) -> dict:
    """The reviewed state's self-assessment for the page, when the person may read it: answers by
    question id, gaps by section id, evidence files by question id (3 queries, however many
    sections; the sections come with their questions loaded, as `edit` reads them)."""
    if not access.can(current_user, "self_assessment.view", review):
        return {"state_visible": False}
    return {
        "state_visible": True,
        "answers": self_assessment_service.answers_of(review),
        "gaps": self_assessment_service.gaps_of(review),
        "files": evidence.files_by_question(review),
        "choice_labels": CHOICE_LABELS,
        "assistance_kinds": ASSISTANCE_KINDS,
    }


def _assignment_with_review(assignment_id: int) -> Assignment:
    """The assignment with its review, the review's cycle and state (1 query), or 404."""
    assignment = db.session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id)
        .options(
            joinedload(Assignment.review).joinedload(Review.cycle),
            joinedload(Assignment.review).joinedload(Review.state),
        )
    )
    if assignment is None:
        abort(404)
    return assignment


def _page_posted() -> bool:
    """Whether the POST came from the evaluation page (it carries the page's hidden fields)."""
    return bool(request.form.get("expected_status") or request.form.get("base_version"))


def _stale_message():
    return _(
        "Someone saved this evaluation after you opened it. Your text is kept below. "
        "Save again to replace what was saved."
    )


#: `_render_form`'s default: the evaluation was not read by the caller.
_UNREAD = object()


def _render_form(
    assignment,
    form,
    sections,
    kept=None,
    status=200,
    conflict=None,
    locked=False,
    evaluation=_UNREAD,
    unsaved=False,
):
    """The evaluation form page; ``evaluation`` as already read by the caller (read here if not
    given: after a save, what is stored now). ``unsaved``: the page shows typed text not yet
    stored (leaving it warns from the start)."""
    if evaluation is _UNREAD:
        evaluation = service.evaluation_of(assignment)
    saved_rows = {row.section_id: row for row in evaluation.sections} if evaluation else {}
    page = render_template(
        "evaluation/edit.html",
        assignment=assignment,
        review=assignment.review,
        form=form,
        sections=sections,
        evaluation=evaluation,
        kept=kept or {},
        conflict=conflict,
        locked=locked,
        unsaved=unsaved or status != 200,
        rated={
            s.id for s in sections if s.id in saved_rows and saved_rows[s.id].rating is not None
        },
        **_state_answers(assignment.review),
    )
    return page, status


def _render_locked(assignment, sections):
    """The reviewer's posted text, read-only, on an evaluation they can no longer change (409).

    Nothing is saved; the text is shown so that it can be copied (e.g. after the evaluation was
    submitted from another tab)."""
    form = build_evaluation_form(sections)  # what was posted, not validated
    if str(assignment.status) == AssignmentStatus.SUBMITTED:
        message = _(
            "This evaluation was submitted and can no longer be changed here; your unsaved "
            "text is shown below so you can copy it."
        )
    else:
        message = _(
            "This evaluation can no longer be changed here; your unsaved text is shown below "
            "so you can copy it."
        )
    return _render_form(assignment, form, sections, status=409, conflict=message, locked=True)


def _save_draft(evaluation, form, sections, adding: bool, remove_id: int | None) -> None:
    """Save everything posted into ``evaluation``. Raises `service.EvaluationError`."""
    service.save_evaluation(evaluation, form.summary.data or "", _section_inputs(form, sections))
    if form.wants_new_proposal(adding):
        service.add_proposal(
            evaluation, form.new_section.data, form.new_text.data, form.new_category.data
        )
    if remove_id is not None:
        service.remove_proposal(evaluation, remove_id)


@bp.route("/<int:assignment_id>/evaluation", methods=["GET", "POST"])
@login_required
def edit(assignment_id: int):
    assignment = _assignment_with_review(assignment_id)
    access.require(current_user, "evaluation.view", assignment, hide=True)
    sections = self_assessment_service.sections_of(assignment.review)  # questions loaded
    if not access.can(current_user, "evaluation.edit", assignment):
        if access.can(current_user, "evaluation.author", assignment):
            if request.method == "GET":
                flash(_("This evaluation cannot be edited now."), "info")
                return redirect(url_for("evaluation.show", assignment_id=assignment.id))
            if _page_posted():  # e.g. submitted in another tab: show their text back
                return _render_locked(assignment, sections)
        abort(403)

    if request.method == "GET":
        evaluation = service.evaluation_of(assignment)
        form = build_evaluation_form(sections, data=_initial_data(evaluation, sections))
        form.expected_status.data = str(assignment.status)
        form.base_version.data = service.loaded_evaluation_version(evaluation)
        return _render_form(assignment, form, sections, evaluation=evaluation)

    form = build_evaluation_form(sections)
    action = request.form.get("action", "save")
    section = _posted_section(sections)
    adding = action == "add_proposal" and section is None
    remove_id = None if section else request.form.get("remove_proposal", type=int)
    valid = form.validate_on_submit()
    if section is not None:
        valid = _section_valid(form, section.id)
    if valid and form.wants_new_proposal(adding):
        valid = form.check_new_proposal()
    if not valid:
        flash(_("Nothing was saved: please correct the fields marked below."), "warning")
        return _render_form(assignment, form, sections, status=422)
    if form.expected_status.data and form.expected_status.data != str(assignment.status):
        raise ActedFirst()

    try:
        evaluation = service.evaluation_for_editing(assignment)
    except ActedFirst:
        db.session.rollback()
        return _render_locked(assignment, sections)
    current = service.evaluation_version(assignment)
    if is_stale(form.base_version.data, current):
        db.session.rollback()
        form.base_version.data = current  # a deliberate second save goes through
        return _render_form(assignment, form, sections, status=409, conflict=_stale_message())
    if section is not None:
        return _save_one_section(assignment, evaluation, form, sections, section)
    try:
        _save_draft(evaluation, form, sections, adding, remove_id)
    except service.EvaluationError as error:
        db.session.rollback()
        if error.field:
            flash(_("Nothing was saved: please correct the fields marked below."), "warning")
            form[error.field].errors = [*form[error.field].errors, str(error)]
        else:
            flash(str(error), "warning")
        return _render_form(assignment, form, sections, status=422)

    if action != "submit":
        db.session.commit()
        flash(_("Your draft evaluation is saved."), "success")
        return redirect(url_for("evaluation.edit", assignment_id=assignment.id))

    try:
        apply_transition(
            current_user,
            assignment,
            "submit_evaluation",
            expected_status=form.expected_status.data or str(assignment.status),
        )
    except TransitionRefused as refused:
        # apply_transition rolled everything back; keep the draft all the same, then explain.
        return _keep_refused_draft(assignment, form, sections, current, refused)
    except (ActedFirst, InvalidTransition):
        db.session.rollback()
        return _render_locked(assignment, sections)
    flash(_("Your evaluation is submitted."), "success")
    return redirect(url_for("evaluation.show", assignment_id=assignment.id))


def _posted_section(sections):
    """The section whose own "Save section" button was pressed, or None (the whole page)."""
    section_id = request.form.get("save_section", type=int)
    return next((s for s in sections if s.id == section_id), None)


def _save_one_section(assignment, evaluation, form, sections, section):
    """Store only ``section``'s rating, findings and good practices, then come back to it.

    Nothing typed elsewhere is lost: when the page holds other unsaved text it is shown again as
    typed (200), with the new version so that the next save goes through; otherwise a redirect.
    """
    service.save_evaluation_section(
        evaluation, section.id, _section_inputs(form, [section])[section.id]
    )
    db.session.commit()
    flash(_("Section %(number)d is saved.", number=section.number), "success")
    anchor = f"section-{section.number}"
    evaluation = service.evaluation_of(assignment)
    if not _unsaved_elsewhere(form, evaluation, sections, section.id):
        return redirect(url_for("evaluation.edit", assignment_id=assignment.id, _anchor=anchor))
    form.base_version.data = service.evaluation_version(assignment)
    form.expected_status.data = str(assignment.status)
    for name in (f"rating_{section.id}", f"findings_{section.id}", f"good_practices_{section.id}"):
        form[name].errors = []
    return _render_form(assignment, form, sections, evaluation=evaluation, unsaved=True)


def _keep_refused_draft(assignment, form, sections, version: str, refused: TransitionRefused):
    """Save the draft whose submission a guard refused, and show the refusal (422)."""
    try:
        evaluation = service.evaluation_for_editing(assignment)
    except ActedFirst:
        db.session.rollback()
        return _render_locked(assignment, sections)
    current = service.evaluation_version(assignment)
    if current != version:  # someone saved in the instant between the two transactions
        db.session.rollback()
        form.base_version.data = current
        return _render_form(assignment, form, sections, status=409, conflict=_stale_message())
    _save_draft(evaluation, form, sections, False, None)
    db.session.commit()
    kept = {"event": "submit_evaluation", "error": refusal_text(refused.refusal)}
    flash(_("Your draft is saved, but the evaluation was not submitted."), "warning")
    form = _fresh_form(form)
    form.base_version.data = service.evaluation_version(assignment)
    return _render_form(assignment, form, sections, kept, status=422)


def _fresh_form(form):
    """The posted form without the new-proposal fields (a proposal typed was saved already)."""
    form.new_text.data = ""
    form.new_section.data = None
    return form


@bp.route("/<int:assignment_id>/evaluation/view")
@login_required
def show(assignment_id: int):
    assignment = get_or_404(Assignment, assignment_id)
    access.require(current_user, "evaluation.view", assignment, hide=True)
    return _render_view(assignment)
