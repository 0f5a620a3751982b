"""The recommendations list of the signed-in user, with filters, and its CSV / XLSX exports.

Every signed-in person may open these URLs; the rows are those of reports they may read on screen
(`app.access.visible_recommendations_clause`): a focal point only its own state's from factual
check on, a reviewer only reviews they lead or submitted an evaluation for, the secretariat all.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user, login_required

from app.extensions import db
from app.services import clock, exports
from app.web.monitoring.forms import dashboard_labels

bp = Blueprint("recommendations", __name__, url_prefix="/recommendations")

#: The most rows the list page shows; the exports have them all.
PAGE_ROWS = 500


@bp.route("")
@login_required
def index():
    filters = exports.Filters.from_args(request.args)
    rows = exports.recommendation_rows(current_user, filters, limit=PAGE_ROWS + 1)
    return render_template(
        "recommendations/index.html",
        rows=rows[:PAGE_ROWS],
        more=len(rows) > PAGE_ROWS,
        filters=filters,
        choices=exports.filter_choices(current_user),
        labels=dashboard_labels(),
        statuses=exports.STATUS_FILTERS,
    )


def _download(body, extension: str, mimetype: str) -> Response:
    """An attachment streamed from ``body`` (an iterable of bytes, or a file object read in
    chunks and closed at the end); ``mimetype`` without parameters (Flask adds the charset of
    text types)."""
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    if hasattr(body, "read"):
        body = _chunks(body)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="pillars-recommendations-{stamp}.{extension}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _chunks(file, size: int = 64 * 1024):
    with file:
        while chunk := file.read(size):
            yield chunk


@bp.route("/export.csv")
@login_required
def export_csv():
    filters = exports.Filters.from_args(request.args)
    # the rows are read as the body is sent, after this request's context and session are
    # gone: on a connection of the export's own (issue 20)
    chunks = exports.csv_chunks(current_user._get_current_object(), filters, engine=db.engine)
    return _download(chunks, "csv", "text/csv")  # Flask adds "; charset=utf-8"


@bp.route("/export.xlsx")
@login_required
def export_xlsx():
    filters = exports.Filters.from_args(request.args)
    return _download(
        exports.xlsx_file(current_user._get_current_object(), filters),
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
