"""The Pillars application factory: `create_app` reads like a table of contents."""

from __future__ import annotations

import logging
import os

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import DEFAULT_SECRET_KEY, Config, config_from_env


def create_app(config: type[Config] | None = None) -> Flask:
    """Build the app. ``config`` defaults to the class named by ``PILLARS_CONFIG``.

    Raises:
        RuntimeError: under the production config with the default secret key.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        template_folder=os.path.join(root, "templates"),
        instance_path=os.path.join(root, "instance"),
    )
    app.config.from_object(config or config_from_env())
    check_config(app)
    os.makedirs(app.instance_path, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def check_config(app: Flask) -> None:
    if app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise RuntimeError("Set SECRET_KEY: production refuses to start with the default key.")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: enforce foreign keys and use WAL (DESIGN §10)."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def register_extensions(app: Flask) -> None:
    from app.extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from app.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None


def _select_locale() -> str | None:
    from flask import current_app

    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def register_blueprints(app: Flask) -> None:
    from app.web import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_template_helpers(app: Flask) -> None:
    from app.web import helpers

    helpers.init_app(app)


def register_error_handlers(app: Flask) -> None:
    from app.web import errors

    errors.init_app(app)


#: No inline script, no framing, nothing from other origins (Bootstrap's icons are data: URIs).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
    logging.getLogger("transitions").setLevel(logging.WARNING)
