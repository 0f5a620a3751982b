"""Secretariat administration: users, cycles, participating states, review teams."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/cycles")
def cycles():
    return "todo"


@bp.route("/users")
def users():
    return "todo"


@bp.route("/reviews/<int:review_id>/team")
def review_team(review_id: int):
    return "todo"
