"""Each user's own notifications in the app (issue 6 §2): the list, one message, mark read.

Only the recipient sees a notification: another user's id is a 404, as if it did not exist. A
message holding a credential (a set-password link) is listed but its body is not shown.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import Notification
from app.services import notifications as service
from app.web.listing import paginate

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def index():
    listing = paginate(
        service.own_query(current_user),
        {"date": (Notification.created_at,)},
        "-date",
        Notification.id.desc(),
    )
    return render_template("notifications/index.html", listing=listing)


def _own(note_id: int) -> Notification:
    """The signed-in person's notification ``note_id``; 404 for anyone else's (its existence is
    not revealed), by the rule ``notification.view`` of `app.access`."""
    note = db.session.get(Notification, note_id)
    if note is None:
        abort(404)
    access.require(current_user, "notification.view", note, hide=True)
    return note


@bp.route("/<int:note_id>")
@login_required
def show(note_id: int):
    note = _own(note_id)
    if note.read_at is None:
        service.mark_read(current_user, note.id)
        db.session.commit()
    return render_template("notifications/show.html", note=note)


@bp.route("/<int:note_id>/read", methods=["POST"])
@login_required
def mark_read(note_id: int):
    _own(note_id)
    service.mark_read(current_user, note_id)
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/read", methods=["POST"])
@login_required
def mark_all_read():
    changed = service.mark_read(current_user)
    db.session.commit()
    if changed:
        flash(_("All your notifications are marked read."), "success")
    return redirect(url_for("notifications.index"))
