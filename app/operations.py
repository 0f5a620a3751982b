"""Running Pillars in production (issue 14): structured logs with a request id, error reports
to Sentry when configured, and static URLs that carry a hash of the file's content.

- ``LOG_FORMAT=json``: every log line is one JSON object (``time`` in UTC ISO 8601, ``level``,
  ``logger``, ``message``, ``request_id``, and ``exception`` with the traceback when there is
  one). Each request gets an id — the proxy's ``X-Request-ID`` when it is a sane token (nginx:
  ``$request_id``), else a random one — sent back in the ``X-Request-ID`` response header.
- ``SENTRY_DSN``: errors are reported to that Sentry project (sentry-sdk, Flask integration,
  no personal data, no performance tracing); unset — the default — nothing is sent anywhere.
- Static files: ``url_for('static', filename=...)`` adds ``?v=<12 hex of SHA-256 of the file>``,
  so browsers may cache them for ``SEND_FILE_MAX_AGE_DEFAULT`` (a year) and still get a new
  file the moment it changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from flask import Flask, g, has_request_context, request

#: A request id taken from the proxy: letters, digits, dashes, at most 64.
_SANE_ID = re.compile(r"^[A-Za-z0-9\-]{8,64}$")


def current_request_id() -> str:
    """The id of the current request ("" outside a request)."""
    if not has_request_context():
        return ""
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
    return g.request_id


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (the current request's id, or "")."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def init_logging(app: Flask) -> None:
    """``LOG_FORMAT=json``: the root logger writes JSON lines to standard error (gunicorn and
    systemd collect them), at INFO."""
    if str(app.config.get("LOG_FORMAT", "")).lower() != "json":
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "pillars_json", False)]
    handler.pillars_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Flask's own logger would print the same line again in plain text
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


def init_sentry(app: Flask) -> bool:
    """Report errors to Sentry when ``SENTRY_DSN`` is set; returns whether it was turned on."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[FlaskIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
        environment=app.config.get("ENV_NAME", "production"),
    )
    return True


@lru_cache(maxsize=512)
def _content_hash(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    """The content hash of static file ``filename`` (None if there is no such file)."""
    folder = Path(app.static_folder or "")
    path = (folder / filename).resolve()
    if folder.resolve() not in path.parents or not path.is_file():
        return None
    return _content_hash(str(path), path.stat().st_mtime_ns)


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_version(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _request_id(response):
        if has_request_context():
            response.headers.setdefault("X-Request-ID", current_request_id())
        return response
