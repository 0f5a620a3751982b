"""Error pages: 400/403/404/405/409/413/500 as friendly pages, never a stack trace; under
``/api/`` the same errors as JSON (`app.web.api.errors`).

When a POST is refused (an expired session or CSRF token, a status that moved on, a role that
changed), the page shows back the text the person typed, so that nothing is lost: they can copy
it, reload the form and paste it in again.
"""

from __future__ import annotations

import io

from flask import Flask, current_app, flash, redirect, render_template, request
from flask_login import login_url
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict, HTTPException, RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from app.extensions import db, login_manager
from app.web.api.errors import from_http_exception, is_api_request, json_error

#: Posted fields that are machinery, not a person's text.
NOT_TYPED = {"csrf_token", "expected_status", "base_version", "next"}


class _Discard(io.RawIOBase):
    """Where the file parts of an over-large request go when its text fields are recovered."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0


#: An over-large request (413) is re-read for its text fields up to this size in bytes.
RECOVER_TYPED_MAX_BYTES = 200 * 1024 * 1024


def _oversized_form_items() -> list[tuple[str, str]]:
    """The text fields of a request refused as too large (413), read from its body with every
    file part thrown away: the refusal happened before any of the body was read, so the person's
    answers are still there to show back. Nothing (an empty list) when the body is unreadable or
    larger than `RECOVER_TYPED_MAX_BYTES`."""
    length = request.content_length
    if not length or length > RECOVER_TYPED_MAX_BYTES:
        return []
    _stream, form, _files = parse_form_data(
        request.environ,
        stream_factory=lambda *args, **kwargs: _Discard(),
        max_form_memory_size=current_app.config.get("MAX_FORM_MEMORY_SIZE"),
        silent=False,
    )
    return list(form.items(multi=True))


def typed_text(limit: int = 60, *, oversized: bool = False) -> list[tuple[str, str]]:
    """The (field name, text) pairs of the current POST that hold something a person wrote:
    at least one letter and more than one character; passwords and hidden machinery excluded.
    ``oversized``: the request was refused as too large; its body is re-read without the files."""
    if request.method != "POST":
        return []
    try:
        items = _oversized_form_items() if oversized else list(request.form.items(multi=True))
    except Exception:  # noqa: BLE001 — an unreadable body has nothing to show back
        return []
    kept = []
    for name, value in items:
        if name in NOT_TYPED or "password" in name.lower():
            continue
        text = value.strip()
        if len(text) > 1 and any(ch.isalpha() for ch in text) and " " in text:
            kept.append((name, value))
    return kept[:limit]


def init_app(app: Flask) -> None:
    @login_manager.unauthorized_handler
    def signed_out():
        """A POST from someone whose session ended (expired, or signed out in another tab):
        instead of a redirect that would drop their text, a page showing what they typed and a
        sign-in link. Other requests go to the sign-in page as usual (Flask-Login's default)."""
        typed = typed_text()
        if typed:
            return (
                render_template("errors/error.html", error=None, code=401, typed=typed),
                401,
            )
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return (
            render_template(
                "errors/error.html", error=error, code=400, csrf=True, typed=typed_text()
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        if is_api_request():
            return from_http_exception(error)
        code = error.code or 500
        typed = typed_text(oversized=isinstance(error, RequestEntityTooLarge))
        return (
            render_template(
                "errors/error.html",
                error=error,
                code=code,
                typed=typed,
                request_limit_mb=(request.max_content_length or 0) // (1024 * 1024),
            ),
            code,
        )

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        """A constraint refused the write, typically two requests creating the same row at once
        (a double click): nothing was written; say so and show the typed text back."""
        db.session.rollback()
        app.logger.warning("integrity error answered with 409: %s", error.orig)
        if is_api_request():
            return json_error(409)
        conflict = Conflict("The same item was created at the same moment by another request.")
        return (
            render_template("errors/error.html", error=conflict, code=409, typed=typed_text()),
            409,
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        db.session.rollback()
        app.logger.exception("unexpected error")
        if is_api_request():
            return json_error(500)
        return (
            render_template("errors/error.html", error=None, code=500, typed=typed_text()),
            500,
        )
