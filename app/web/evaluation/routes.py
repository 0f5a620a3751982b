"""Reviewer invitations and evaluations."""

from flask import Blueprint

bp = Blueprint("evaluation", __name__, url_prefix="/assignments")


@bp.route("/<int:assignment_id>")
def invitation(assignment_id: int):
    return "todo"


@bp.route("/<int:assignment_id>/evaluation")
def edit(assignment_id: int):
    return "todo"


@bp.route("/<int:assignment_id>/evaluation/view")
def show(assignment_id: int):
    return "todo"
