"""Response to recommendations, progress updates and implementation assessments."""

from flask import Blueprint

bp = Blueprint("follow_up", __name__, url_prefix="/reviews/<int:review_id>")


@bp.route("/response")
def response(review_id: int):
    return "todo"


@bp.route("/follow-up")
def show(review_id: int):
    return "todo"
