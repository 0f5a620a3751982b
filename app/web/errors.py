"""Error pages: 400/403/404/405/409/413/500 as friendly pages, never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from app.extensions import db


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        return render_template("errors/error.html", error=error, code=code), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        db.session.rollback()
        app.logger.exception("unexpected error")
        return render_template("errors/error.html", error=None, code=500), 500
