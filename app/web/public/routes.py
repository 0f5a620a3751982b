"""Public pages, without sign-in (issue 5; DESIGN §1 "public", §5 last bullet).

Everything here is read through `app.services.publication`, which limits every query to reviews
whose report is adopted and whose state consented to publication: a review that is not published
is a 404, as if it did not exist. No page here shows an evaluation, a draft, a progress update's
narrative, an assessment note, or the name of an official.
"""

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _

from app.models import ConsentLevel, RegionalGroup
from app.services import publication as service
from app.web.follow_up.forms import LABELS

bp = Blueprint("public", __name__, url_prefix="/public")


@bp.route("/")
def index():
    return render_template("public/index.html", published=service.published_index())


@bp.route("/reports/<int:review_id>")
def report(review_id: int):
    found = service.public_report(review_id)
    if found is None:
        abort(404)
    return render_template("public/report.html", found=found, labels=LABELS)


@bp.route("/reports/<int:review_id>/mid-term/<int:version>")
def midterm(review_id: int, version: int):
    found = service.public_report(review_id)
    if found is None:
        abort(404)
    snapshot = service.published_midterm(review_id, version)
    if snapshot is None:
        abort(404)
    return render_template(
        "public/midterm.html",
        found=found,
        snapshot=snapshot,
        full=found.level == ConsentLevel.FULL,
        labels=LABELS,
    )


def _filter_choices() -> dict:
    return {
        "states": service.state_choices(),
        "groups": [g.value for g in RegionalGroup],
        "sections": service.section_choices(),
    }


@bp.route("/recommendations")
def recommendations():
    filters = service.RecommendationFilters.from_args(request.args)
    rows, total = service.search_recommendations(filters)
    pages = max(1, -(-total // service.PER_PAGE))
    return render_template(
        "public/recommendations.html",
        filters=filters,
        rows=rows,
        total=total,
        pages=pages,
        labels=LABELS,
        not_assessed=service.NOT_ASSESSED,
        csv_url=url_for(".recommendations_csv", **filters.query_args(page=1)),
        **_filter_choices(),
    )


@bp.route("/recommendations.csv")
def recommendations_csv():
    filters = service.RecommendationFilters.from_args(request.args)
    labels = {
        "position": {k: str(v) for k, v in LABELS["position"].items()},
        "assessment": {k: str(v) for k, v in LABELS["assessment"].items()},
    }
    # the rows are produced before the response starts: streaming would outlive the session
    body = "".join(service.recommendations_csv(filters, labels))
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="pillars-recommendations.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/good-practices")
def good_practices():
    filters = service.GoodPracticeFilters.from_args(request.args)
    return render_template(
        "public/good_practices.html",
        filters=filters,
        rows=service.good_practices(filters),
        title=_("Good-practice library"),
        **_filter_choices(),
    )
