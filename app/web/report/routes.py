"""The peer-review report: drafting by the lead, factual comments by the state."""

from flask import Blueprint

bp = Blueprint("report", __name__, url_prefix="/reviews/<int:review_id>/report")


@bp.route("")
def show(review_id: int):
    return "todo"


@bp.route("/edit")
def edit(review_id: int):
    return "todo"
