"""The Pillars application factory: `create_app` reads like a table of contents."""

from __future__ import annotations

import hmac
import logging
import os

from flask import Flask, Request, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import DEFAULT_DATABASE_URL, DEFAULT_SECRET_KEY, Config, config_from_env


def create_app(config: type[Config] | None = None) -> Flask:
    """Build the app. ``config`` defaults to the class named by ``PILLARS_CONFIG``.

    Raises:
        ConfigurationError: under the production config without its own ``SECRET_KEY`` or
            ``DATABASE_URL`` (`check_config`).
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        template_folder=os.path.join(root, "templates"),
        instance_path=os.path.join(root, "instance"),
    )
    app.config.from_object(config or config_from_env())
    check_config(app)
    from app import operations

    operations.init_logging(app)
    operations.init_sentry(app)
    app.request_class = PillarsRequest
    if app.config.get("PROXY_COUNT"):
        # behind N reverse proxies: the client address (rate limits) and scheme come from them
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    app.url_map.converters["int"] = DatabaseIntegerConverter
    os.makedirs(app.instance_path, exist_ok=True)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_error_handlers(app)
    register_security_headers(app)
    operations.init_app(app)
    register_commands(app)
    register_mail_log(app)
    return app


class PillarsRequest(Request):
    """Form values lose NUL characters: PostgreSQL text cannot hold them; no person types one."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any("\x00" in value for value in form.values()):
            self.__dict__["form"] = ImmutableMultiDict(
                [(key, value.replace("\x00", "")) for key, value in form.items(multi=True)]
            )


class DatabaseIntegerConverter(IntegerConverter):
    """``<int:...>`` stops at PostgreSQL's INTEGER range: a larger id is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class ConfigurationError(RuntimeError):
    """Production refuses to start; the message is one line saying what to set."""


def check_config(app: Flask) -> None:
    """Under the production config, refuse to start without a database and a secret key of
    its own (issue 14): ``DATABASE_URL`` unset (the development SQLite file) or ``SECRET_KEY``
    unset, empty or the development default.

    Raises:
        ConfigurationError: naming the setting to give.
    """
    if app.config["ENV_NAME"] != "production":
        return
    key = app.config.get("SECRET_KEY") or ""
    if not key or key == DEFAULT_SECRET_KEY:
        raise ConfigurationError(
            "Set SECRET_KEY: production refuses to start with the default key or none "
            '(python -c "import secrets; print(secrets.token_hex(32))").'
        )
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if not url or url == DEFAULT_DATABASE_URL:
        raise ConfigurationError(
            "Set DATABASE_URL (e.g. postgresql+psycopg://pillars:…@127.0.0.1:5432/pillars): "
            "production refuses to start on the development SQLite file."
        )


@event.listens_for(Engine, "connect")
def _connection_settings(dbapi_connection, _record) -> None:
    """Settings of every new database connection.

    SQLite: enforce foreign keys and use WAL (DESIGN §10) with ``synchronous=NORMAL``, the
    setting SQLite's documentation recommends for WAL: a commit no longer waits for the disk
    (fsync happens at checkpoints), the database cannot be corrupted, and only the last commits
    before a power cut (not a crash of the application) may be lost.

    PostgreSQL: no JIT compilation (``jit = off``). PostgreSQL compiles a query once its
    estimated cost passes ``jit_above_cost``; the dashboard's grouping queries pass it as
    history grows, and compiling took 35–45 ms of a 110 ms page to save nothing on queries of
    a few milliseconds (issue 20's benchmark; the PostgreSQL manual, "When to JIT?", says as
    much of short queries). Set for the session and committed, so no pool reset undoes it.
    """
    module = type(dbapi_connection).__module__
    if module.startswith("psycopg"):
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.commit()
        return
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def register_extensions(app: Flask) -> None:
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True,
    )
    csrf.init_app(app)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from app.models import User

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        ident, _, token = session_id.partition(".")
        if not ident.isdigit() or not token or int(ident) > 2**31 - 1:
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.active:
            return None
        return user if hmac.compare_digest(user.session_token, token) else None


def _select_locale() -> str | None:
    """The language of a request (DESIGN §11): the signed-in user's stored choice, else the
    choice made on the switcher before signing in (kept in the session), else the browser's best
    match among the interface languages, else the default (English). Outside a request (a CLI
    command) the default, unless an e-mail forces its recipient's."""
    from flask import current_app, has_request_context, session
    from flask_login import current_user

    from app.i18n import normalise_language

    if not has_request_context():
        return None
    if current_user.is_authenticated and normalise_language(current_user.locale):
        return normalise_language(current_user.locale)
    chosen = normalise_language(session.get("language"))
    if chosen:
        return chosen
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def register_blueprints(app: Flask) -> None:
    from app.web import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    from app.web import api

    api.init_app(app)


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


#: Pages that draw workflow diagrams: mermaid writes its SVG's <style> element and style
#: attributes in the browser, so these pages (and only these) allow inline *styles*; scripts stay
#: 'self' only. Set by `app.web.helpers.diagram_page`.
DIAGRAM_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


#: Browser features no page of Pillars uses, turned off for it and anything it might embed.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        max_age = int(app.config.get("HSTS_MAX_AGE") or 0)
        if app.config["ENV_NAME"] == "production" and max_age > 0:
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={max_age}; includeSubDomains"
            )
        return response


def register_mail_log(app: Flask) -> None:
    """``MAIL_BACKEND=log`` (development): e-mails are written at INFO to the app's log handler
    (stderr), so the person running the demo sees them."""
    if app.config.get("MAIL_BACKEND") == "log":
        app.logger.name  # noqa: B018 — creating Flask's logger installs its stderr handler
        logging.getLogger("app.services.notifications").setLevel(logging.INFO)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.init_app(app)
    logging.getLogger("transitions").setLevel(logging.WARNING)
