"""Operations endpoints: ``GET /healthz`` for load balancers and monitoring (issue 14)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, limiter

bp = Blueprint("ops", __name__)
_LOG = logging.getLogger(__name__)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """200 ``{"status": "ok"}`` when the database answers, else 503
    ``{"status": "unavailable"}``; no sign-in, and nothing about versions or settings."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except (SQLAlchemyError, OSError) as error:
        db.session.rollback()
        _LOG.warning("health check: the database does not answer: %s", type(error).__name__)
        response = jsonify(status="unavailable")
        response.status_code = 503
    else:
        response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
