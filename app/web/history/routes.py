"""A state's history across cycles (DESIGN §8): the secretariat for every state, a focal point
for its own state; anyone else gets a 404."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app import access
from app.models import State
from app.services.state_history import state_history
from app.web.follow_up.forms import LABELS
from app.web.helpers import get_or_404

bp = Blueprint("history", __name__)


@bp.route("/states/<int:state_id>/history")
@login_required
def state(state_id: int):
    found = get_or_404(State, state_id)
    access.require(current_user, "state.history", found, hide=True)
    return render_template(
        "history/state.html",
        state=found,
        entries=state_history(found, current_user),
        labels=LABELS,
    )
