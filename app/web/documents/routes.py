"""Report documents to download (issue 19): the consolidated report, the mid-term report and the
published report as PDF; the draft report as Word for the lead reviewer and the secretariat.

Each route asks `app.access` exactly as the page it comes from (report.view, midterm.view, the
publication's consent for the public one); file names carry the state code and cycle, never a
person's name. Without WeasyPrint's system libraries a PDF link answers 503 with the reason.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user, login_required

from app import access
from app.models import ConsentLevel, Review
from app.services import documents as service
from app.services import midterm as midterm_service
from app.services import publication
from app.web.follow_up.forms import LABELS
from app.web.helpers import get_or_404

bp = Blueprint("documents", __name__)


def _css() -> str:
    with open(
        os.path.join(current_app.static_folder, "css", "document.css"), encoding="utf-8"
    ) as f:
        return f.read()


def _download(body: bytes, name: str, mimetype: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


def _pdf(template: str, name: str, **context) -> Response:
    reason = service.pdf_unavailable_reason()
    if reason:
        return Response(render_template("documents/unavailable.html", reason=reason), 503)
    html = render_template(template, **context)
    return _download(service.pdf_bytes(html, _css()), name, "application/pdf")


def _load(review_id: int, action: str) -> Review:
    review = get_or_404(Review, review_id)
    access.require(current_user, "review.view", review, hide=True)
    access.require(current_user, action, review, hide=True)
    return review


@bp.route("/reviews/<int:review_id>/report.pdf")
@login_required
def report_pdf(review_id: int):
    review = _load(review_id, "report.view")
    document = service.report_document(review)
    name = service.file_name("report", document.state_code, document.cycle, "pdf")
    return _pdf("documents/report.html", name, document=document, labels=LABELS)


@bp.route("/reviews/<int:review_id>/report.docx")
@login_required
def report_docx(review_id: int):
    review = _load(review_id, "report.word")
    document = service.report_document(review)
    name = service.file_name("draft-report", document.state_code, document.cycle, "docx")
    return _download(
        service.report_docx(document),
        name,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )


@bp.route("/reviews/<int:review_id>/mid-term/<int:version>.pdf")
@login_required
def midterm_pdf(review_id: int, version: int):
    review = _load(review_id, "midterm.view")
    snapshot = midterm_service.version_of(review, version)
    if snapshot is None:
        abort(404)
    name = service.file_name("mid-term", review.state.code, review.cycle.name, "pdf", version)
    return _pdf(
        "documents/midterm.html",
        name,
        review=review,
        snapshot=snapshot,
        full=True,
        public=False,
        labels=LABELS,
    )


@bp.route("/public/reports/<int:review_id>/report.pdf")
def public_report_pdf(review_id: int):
    found = publication.public_report(review_id)
    if found is None:
        abort(404)
    document = service.public_report_document(found)
    name = service.file_name("report", document.state_code, document.cycle, "pdf")
    return _pdf("documents/report.html", name, document=document, labels=LABELS, public=True)


@bp.route("/public/reports/<int:review_id>/mid-term/<int:version>.pdf")
def public_midterm_pdf(review_id: int, version: int):
    found = publication.public_report(review_id)
    snapshot = publication.published_midterm(review_id, version) if found else None
    if snapshot is None:
        abort(404)
    review = found.review
    name = service.file_name("mid-term", review.state.code, review.cycle.name, "pdf", version)
    return _pdf(
        "documents/midterm.html",
        name,
        review=review,
        snapshot=snapshot,
        full=found.level == ConsentLevel.FULL,
        public=True,
        labels=LABELS,
    )


# ``pdf_unavailable()`` for the pages' PDF links: why PDFs cannot be made here, or None
bp.add_app_template_global(service.pdf_unavailable_reason, "pdf_unavailable")
