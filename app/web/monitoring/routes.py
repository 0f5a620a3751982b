"""The secretariat's monitoring screens of a cycle: the dashboard and the import of prior UPR
recommendations (DESIGN §8, §9).

Every URL of this blueprint is for the secretariat only (``access.require(user, "admin")``), as
in the administration blueprint: anonymous visitors are sent to sign in, others get 403.
"""

from __future__ import annotations

import json

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import Cycle
from app.services import dashboard as dashboard_service
from app.services import upr_import
from app.web.helpers import get_or_404
from app.web.monitoring.forms import UprImportForm, dashboard_labels

bp = Blueprint("monitoring", __name__, url_prefix="/admin/cycles/<int:cycle_id>")


@bp.before_request
@login_required
def secretariat_only():
    """Refuse every monitoring URL to anyone but the secretariat."""
    access.require(current_user, "admin")


@bp.route("/upr-import", methods=["GET", "POST"])
def upr_import_page(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    form = UprImportForm()
    result, error, status = None, None, 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = upr_import.import_upr_csv(
                upload.read(), cycle, source_file=upload.filename or "", user=current_user
            )
        except upr_import.ImportRefused as refused:
            db.session.rollback()
            error, status = str(refused), 422
        else:
            db.session.commit()
    elif form.is_submitted():
        status = 422
    return render_template(
        "monitoring/upr_import.html", cycle=cycle, form=form, result=result, error=error
    ), status


@bp.route("/dashboard")
def dashboard(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    board = dashboard_service.build(cycle)
    return render_template(
        "monitoring/dashboard.html",
        board=board,
        cycle=cycle,
        chart_data=json.dumps(board.chart_data()),
        labels=dashboard_labels(),
    )
