"""The JSON API under ``/api/v1`` (DESIGN §12, issue 19), built with flask-smorest so that the
OpenAPI 3 document (``/api/v1/openapi.json``) is generated from the views and their schemas.

Public endpoints need no sign-in and read through `app.services.publication` exactly as the public
pages do. Every other endpoint takes a personal access token (``Authorization: Bearer pil_…``),
acts as the token's user through `app.access` (the same rules as the pages; the token's scopes
only narrow them) and answers objects the user may not know with 404. Errors are JSON
(`app.web.api.errors`), never HTML; CSRF does not apply (no cookie is read); calls are
rate-limited per token (per address without one).
"""

from __future__ import annotations

from flask import Flask, g
from flask_smorest import Api

from app.extensions import csrf, db
from app.web.api.errors import ErrorSchema

PREFIX = "/api/v1"


class PillarsApi(Api):
    """flask-smorest's `Api` whose errors have Pillars' shape and whose error handlers are the
    application's own (`app.web.errors` answers JSON under ``/api/``, HTML pages elsewhere)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        return None


api = PillarsApi()


def init_app(app: Flask) -> None:
    """Configure flask-smorest, register the API blueprints (CSRF-exempt, rate-limited)."""
    from app.web.api import docs, private, public

    app.config.setdefault("API_TITLE", "Pillars API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", "300 per minute")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "Public data of published peer reviews without sign-in; everything else "
                    "with a personal access token created on the account page, acting as its "
                    "user through the same access rules as the pages."
                )
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "pil_…"}
                }
            },
        },
    )
    api.init_app(app)
    for blueprint in (public.blp, private.blp):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    csrf.exempt(app.blueprints["api-docs"])
    app.register_blueprint(docs.bp)

    @app.after_request
    def _commit_token_use(response):
        """The token's last use was flushed by `authenticate`; a read commits nothing else."""
        if g.pop("api_token", None) is not None and response.status_code < 400:
            db.session.commit()
        return response
