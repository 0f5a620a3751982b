"""The self-assessment questionnaire, section by section."""

from flask import Blueprint

bp = Blueprint("self_assessment", __name__, url_prefix="/reviews/<int:review_id>/self-assessment")


@bp.route("")
def overview(review_id: int):
    return "todo"
