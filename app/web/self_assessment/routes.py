"""The self-assessment questionnaire, section by section (DESIGN §3, §4, §5).

The focal point of the reviewed state edits while the review is in self_assessment; the
secretariat, the accepted review team and the focal point after submission read it. Everyone else
gets a 404. Submission is the review's ``submit_self_assessment`` event (posted to
``reviews.fire``).
"""

import io
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import ASSISTANCE_KINDS, EvidenceFile, Review
from app.services import clock, evidence, history, sa_versions
from app.services import self_assessment as service
from app.web.helpers import get_or_404
from app.web.self_assessment.forms import CHOICE_LABELS, section_form

bp = Blueprint("self_assessment", __name__, url_prefix="/reviews/<int:review_id>/self-assessment")


def _load(review_id: int) -> Review:
    review = get_or_404(Review, review_id)
    access.require(current_user, "self_assessment.view", review, hide=True)
    return review


@bp.route("")
@login_required
def overview(review_id: int):
    review = _load(review_id)
    editable = access.can(current_user, "self_assessment.edit", review)
    context = {}
    if editable:
        progress = service.section_progress(review)
    else:
        sections = service.sections_of(review)
        progress = service.section_progress(review, sections)
        context = {
            "sections": sections,
            "answers": service.answers_of(review),
            "gaps": service.gaps_of(review),
        }
    version_count = sa_versions.version_count(review)
    # starting from the last adopted review is offered until the first submission
    carry_source = sa_versions.carry_source(review) if editable and not version_count else None
    return render_template(
        "self_assessment/overview.html",
        review=review,
        progress=progress,
        missing=[(code, e.section.number) for e in progress for code in e.missing_codes],
        editable=editable,
        returned=history.returned_with(review) if editable else None,
        level_descriptions=service.level_descriptions(review.cycle.framework),
        choice_labels=CHOICE_LABELS,
        assistance_kinds=ASSISTANCE_KINDS,
        files=evidence.files_by_question(review),
        version_count=version_count,
        carry_source=carry_source,
        **context,
    )


@bp.route("/versions")
@login_required
def versions(review_id: int):
    """The numbered versions of the self-assessment, one per submission (issue 16)."""
    review = _load(review_id)
    access.require(current_user, "self_assessment.versions", review, hide=True)
    return render_template(
        "self_assessment/versions.html",
        review=review,
        versions=list(reversed(sa_versions.versions_of(review))),
    )


@bp.route("/versions/<int:number>")
@login_required
def version(review_id: int, number: int):
    """What changed in version ``number`` since the one before it, question by question."""
    review = _load(review_id)
    access.require(current_user, "self_assessment.versions", review, hide=True)
    found = sa_versions.changes(review, service.sections_of(review), number)
    if found is None:
        abort(404)
    current, previous, changes = found
    return render_template(
        "self_assessment/version.html",
        review=review,
        current=current,
        previous=previous,
        changes=changes,
    )


@bp.route("/<int:number>/carry-over", methods=["POST"])
@login_required
def carry_over(review_id: int, number: int):
    """Start section ``number`` from the state's answers of its last adopted review."""
    review = _load(review_id)
    access.require(current_user, "self_assessment.carry_over", review)
    current = service.section_by_number(review, number)
    if current is None:
        abort(404)
    try:
        copied = sa_versions.carry_section(review, current, current_user)
    except service.SelfAssessmentError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
        return redirect(url_for(".overview", review_id=review.id))
    db.session.commit()
    flash(
        ngettext(
            "%(num)d answer copied into section %(section)s; please check it.",
            "%(num)d answers copied into section %(section)s; please check them.",
            copied,
            section=current.number,
        ),
        "success" if copied else "info",
    )
    return redirect(url_for(".section", review_id=review.id, number=current.number))


@bp.route("/<int:number>", methods=["GET", "POST"])
@login_required
def section(review_id: int, number: int):
    review = _load(review_id)
    current = service.section_by_number(review, number)
    if current is None:
        abort(404)
    answers = service.answers_of(review, current)
    gaps = service.gaps_of(review).get(current.id)
    form = section_form(current, answers, gaps)
    if request.method == "GET":
        return _render_section(review, current, answers, gaps, form)
    if not access.can(current_user, "self_assessment.edit", review):
        return _refuse_locked(review, current, form)
    if not form.validate():
        return _render_section(review, current, answers, gaps, form), 422
    try:
        service.save_section(
            review,
            current,
            form.section_data(current),
            current_user,
            base_version=form.base_version.data,
        )
    except service.NotEditable:
        db.session.rollback()
        return _refuse_locked(review, current, form)
    except service.SectionChanged as changed:
        # nothing saved; the typed text stays, the page is now based on what is stored
        db.session.rollback()
        conflict = form.changed_since_loaded(changed.versions)
        form.rebase(changed.versions)
        answers = service.answers_of(review, current)
        gaps = service.gaps_of(review).get(current.id)
        return _render_section(review, current, answers, gaps, form, conflict=conflict), 409
    except service.SelfAssessmentError as refused:
        db.session.rollback()
        return _render_section(review, current, answers, gaps, form, str(refused)), 422
    refused_files = _attach_files(review, current)
    removed = _remove_file(review)
    db.session.commit()
    flash(_("Saved."), "success")
    for message in refused_files:
        flash(message, "warning")
    if removed is not None:
        flash(_("%(name)s was removed.", name=removed.original_name), "info")
    if form.save_next.data and not refused_files and removed is None:
        return redirect(_next_url(review, number))
    return redirect(url_for(".section", review_id=review.id, number=number))


@bp.route("/<int:number>/autosave", methods=["POST"])
@login_required
def autosave(review_id: int, number: int):
    """Save the section form as the focal point types (``app/static/js/autosave.js``); JSON.

    Takes the same posted fields as the section page (CSRF token included) and stores them as a
    draft exactly like "Save draft". Answers ``200 {"message": "Saved at 14:05 (Africa/Nairobi)",
    "versions": {part: version}, "base_version": str}`` (the cycle's time zone; the page puts
    the versions in its hidden fields so the next save is based on what is stored now), or an
    error with ``{"message": str}``: 403 to anyone who may read but not edit the section (the
    secretariat, a reviewer), 409 once the review left self_assessment or when someone else
    saved the section meanwhile (nothing stored), 422 for a value outside the scales. Those who
    may not see the review get 404, like the page.
    """
    review = _load(review_id)
    current = service.section_by_number(review, number)
    if current is None:
        abort(404)
    if not access.is_focal_point_of(current_user, review):
        return jsonify(message=_("Only the state's focal point edits its self-assessment.")), 403
    answers = service.answers_of(review, current)
    gaps = service.gaps_of(review).get(current.id)
    form = section_form(current, answers, gaps)
    locked = _("This self-assessment can no longer be changed; nothing was saved.")
    if not access.can(current_user, "self_assessment.edit", review):
        return jsonify(message=locked), 409
    if not form.validate():
        return jsonify(message=_("Not saved: please check the answers, then save the draft.")), 422
    try:
        service.save_section(
            review,
            current,
            form.section_data(current),
            current_user,
            base_version=form.base_version.data,
        )
    except service.NotEditable:
        db.session.rollback()
        return jsonify(message=locked), 409
    except service.SectionChanged:
        db.session.rollback()
        message = _(
            "Not saved: someone else saved this section meanwhile. Press Save draft to compare."
        )
        return jsonify(message=message), 409
    except service.SelfAssessmentError as refused:
        db.session.rollback()
        return jsonify(message=str(refused)), 422
    db.session.commit()
    versions = service.section_versions(
        current, service.answers_of(review, current), service.gaps_of(review).get(current.id)
    )
    saved_at = clock.now().astimezone(ZoneInfo(review.cycle.time_zone))
    return jsonify(
        message=_(
            "Saved at %(time)s (%(zone)s).",
            time=saved_at.strftime("%H:%M"),
            zone=review.cycle.time_zone,
        ),
        versions=versions,
        base_version=service.version_of(versions),
    )


def _attach_files(review: Review, current) -> list[str]:
    """Store the files chosen beside each question (inputs ``<code>-files``); the answers are
    saved whatever happens to a file. Returns the messages of the files refused."""
    refused = []
    for question in current.questions:
        for upload in request.files.getlist(f"{question.code}-files"):
            if not upload or not upload.filename:
                continue
            try:
                evidence.attach(review, question, upload, current_user)
            except evidence.EvidenceRefused as error:
                refused.append(str(error))
    return refused


def _remove_file(review: Review) -> EvidenceFile | None:
    """The file named by the ``remove_evidence`` button, marked removed when allowed."""
    file_id = request.form.get("remove_evidence", type=int)
    if file_id is None:
        return None
    record = db.session.get(EvidenceFile, file_id)
    if record is None or record.review_id != review.id:
        return None
    if not access.can(current_user, "evidence.remove", record):
        return None
    evidence.remove(record, current_user)
    return record


@bp.route("/files/<int:file_id>")
@login_required
def evidence_file(review_id: int, file_id: int):
    """Download one evidence file, after the same check as seeing the self-assessment (§5).
    Always an attachment, typed by the content recognised at upload, never sniffed."""
    record = get_or_404(EvidenceFile, file_id)
    if record.review_id != review_id:
        abort(404)
    access.require(current_user, "evidence.view", record, hide=True)
    try:
        data = evidence.stored_path(record).read_bytes()  # at most EVIDENCE_MAX_BYTES
    except FileNotFoundError:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        # stored as e.g. "text/plain; charset=utf-8": Werkzeug adds the charset of text types
        mimetype=record.content_type.partition(";")[0].strip(),
        as_attachment=True,
        download_name=record.original_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _refuse_locked(review: Review, current, form):
    """A save posted after the review left self_assessment (submitted from another tab, say).

    The state's focal point gets the page again (409) with the typed text read-only, to copy it;
    when nothing typed differs from what is stored, a redirect with a note. Others: 403.
    """
    if not access.is_focal_point_of(current_user, review):
        abort(403)
    unsaved = True
    if form.validate():
        try:
            unsaved = bool(service.unsaved_parts(review, current, form.section_data(current)))
        except service.SelfAssessmentError:
            unsaved = True
    if not unsaved:
        flash(
            _("This self-assessment can no longer be changed; nothing you typed was lost."), "info"
        )
        return redirect(url_for(".section", review_id=review.id, number=current.number))
    answers = service.answers_of(review, current)
    gaps = service.gaps_of(review).get(current.id)
    return _render_section(review, current, answers, gaps, form, locked=True), 409


def _next_url(review: Review, number: int) -> str:
    numbers = [entry.section.number for entry in service.section_progress(review)]
    later = [n for n in numbers if n > number]
    if later:
        return url_for(".section", review_id=review.id, number=later[0])
    return url_for(".overview", review_id=review.id)


def _render_section(
    review, current, answers, gaps, form, error=None, *, conflict=None, locked=False
):
    """The section page. ``conflict``: the parts changed by someone else since the posted page
    was loaded (a refused save); ``locked``: the review can no longer be edited, the posted text is
    shown read-only."""
    progress = service.section_progress(review)
    numbers = [entry.section.number for entry in progress]
    index = numbers.index(current.number)
    return render_template(
        "self_assessment/section.html",
        review=review,
        section=current,
        answers=answers,
        gaps=gaps,
        form=form,
        error=error,
        conflict=conflict,
        locked=locked,
        gaps_part=service.GAPS_PART,
        progress=progress,
        current_progress=progress[index],
        previous_number=numbers[index - 1] if index > 0 else None,
        next_number=numbers[index + 1] if index + 1 < len(numbers) else None,
        editable=access.can(current_user, "self_assessment.edit", review),
        level_descriptions=service.level_descriptions(review.cycle.framework),
        choice_labels=CHOICE_LABELS,
        assistance_kinds=ASSISTANCE_KINDS,
        files=evidence.files_by_question(review),
        files_dropped=any(f and f.filename for f in request.files.values()),
        evidence_limit_mb=evidence.max_bytes() // (1024 * 1024),
        evidence_types=evidence.accepted_labels(),
        evidence_accept=",".join(e for kind in evidence.ACCEPTED for e in kind.extensions),
        request_limit=request.max_content_length,
    )
