"""The API's errors: JSON ``{"code", "message", "errors"}`` with a stable ``code`` per HTTP
status, for every failure under ``/api/`` (unknown routes, wrong methods, rate limits and server
errors included), never an HTML page."""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from marshmallow import fields
from werkzeug.exceptions import HTTPException

#: Stable machine words of the statuses the API answers with.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}


class ErrorSchema(ma.Schema):
    """Every error: ``code`` (stable machine word, e.g. ``not_found``, ``validation_error``,
    ``conflict``), ``message`` (for people, in the request's language), ``errors`` (field name →
    list of messages; empty when the error is not about fields)."""

    code = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), required=True)


def get_remote_key() -> str:
    return get_remote_address() or "unknown"


def is_api_request() -> bool:
    """Whether the current request is addressed to the API (answered in JSON)."""
    return request.path == "/api" or request.path.startswith("/api/")


def _messages(status: int) -> str:
    return {
        400: _("The request could not be read."),
        401: _("Send a valid personal access token: Authorization: Bearer <token>."),
        403: _("The token may not do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("The data changed since you read it; read it again and retry."),
        413: _("The request is too large."),
        415: _("Send the body as JSON."),
        422: _("Some values are not valid."),
        429: _("Too many requests; slow down and retry later."),
    }.get(status, _("Something went wrong on our side; nothing was saved."))


def _flatten(messages) -> dict[str, list[str]]:
    """webargs' ``{location: {field: [messages]}}`` as ``{field: [messages]}``."""
    flat: dict[str, list[str]] = {}
    if not isinstance(messages, dict):
        return flat
    for location, found in messages.items():
        if isinstance(found, dict):
            for name, problems in found.items():
                items = problems if isinstance(problems, list) else [problems]
                flat.setdefault(str(name), []).extend(str(p) for p in items)
        else:
            flat.setdefault(str(location), []).extend(
                str(p) for p in (found if isinstance(found, list) else [found])
            )
    return flat


def json_error(status: int, message: str | None = None, errors: dict | None = None):
    """A JSON error response with the API's shape."""
    body = {
        "code": CODES.get(status, "error"),
        "message": message or _messages(status),
        "errors": errors or {},
    }
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def from_http_exception(error: HTTPException):
    """The JSON answer to ``error`` (raised by `abort`, webargs, Werkzeug's routing or
    Flask-Limiter); webargs' field messages become ``errors``."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or _flatten(data.get("messages"))
    response = json_error(status, data.get("message"), errors)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    retry = getattr(error, "retry_after", None)
    if status == 429 and retry:
        response.headers["Retry-After"] = str(retry)
    return response
