"""Application configuration, read from the environment.

`Config` is the development default (SQLite file under ``instance/``); `TestConfig` is used by the
test suite; `ProductionConfig` refuses to start with the default secret key. Select one with
``PILLARS_CONFIG`` (``development`` | ``production``); tests pass `TestConfig` to `create_app`.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-insecure-change-me"
#: The development database: a SQLite file under ``instance/`` (refused by production).
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'instance' / 'pillars.sqlite'}"


def _flag(name: str, default: bool = False) -> bool:
    """An on/off setting from the environment: 1, true, yes, on (any case) mean on."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def day_counts(text: str, *, name: str) -> tuple[int, ...]:
    """Parse a comma-separated list of whole days (``"14, 7, 1, 0"``) into a tuple, largest first,
    without repeats.

    Raises:
        ValueError: an entry is not a whole number of days between 0 and 365, or the list is
            empty; the message names the setting ``name``.
    """
    days = set()
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 0 <= int(part) <= 365:
            raise ValueError(f"{name}: {part!r} is not a number of days between 0 and 365")
        days.add(int(part))
    if not days:
        raise ValueError(f"{name}: give at least one number of days")
    return tuple(sorted(days, reverse=True))


def day_count(text: str, *, name: str) -> int:
    """Parse one whole number of days between 0 and 365 (``"3"``).

    Raises:
        ValueError: anything else; the message names the setting ``name``.
    """
    if "," in text:
        raise ValueError(f"{name}: give one number of days, not a list")
    return day_counts(text, name=name)[0]


class Config:
    """Development defaults; every value can be overridden from the environment."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: long forms must not expire
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    #: The compiled catalogs (``make install`` compiles ``translations/<lang>/LC_MESSAGES``).
    BABEL_TRANSLATION_DIRECTORIES = os.environ.get(
        "BABEL_TRANSLATION_DIRECTORIES", str(BASE_DIR / "translations")
    )
    #: The six UN languages (DESIGN §11); `app.i18n.LANGUAGES` names them.
    LANGUAGES = ["en", "ar", "es", "fr", "ru", "zh"]
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: A whole request (a section form with its files); larger ones get the friendly 413 page.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 25 * 1024 * 1024))
    #: One evidence file; a larger one is refused by the form while the answers are saved.
    EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))
    #: Where evidence files are stored under generated keys (default ``instance/uploads``).
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", str(BASE_DIR / "instance" / "uploads"))
    DEMO_ALLOWED = True
    #: Reminders before a stage deadline, in calendar days before it in the cycle's time zone
    #: (0 = at the deadline); one setting for every cycle (app/services/reminders.py).
    REMINDER_OFFSETS_DAYS = day_counts(
        os.environ.get("REMINDER_OFFSETS_DAYS", "14,7,1,0"), name="REMINDER_OFFSETS_DAYS"
    )
    #: Escalation to the secretariat once a stage is this many calendar days overdue.
    ESCALATION_AFTER_DAYS = day_count(
        os.environ.get("ESCALATION_AFTER_DAYS", "3"), name="ESCALATION_AFTER_DAYS"
    )
    #: Redis for shared rate-limit counters across workers; without it, counters are per process.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")  # default: REDIS_URL, memory
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "pillars"
    #: Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    #: (0: none; the client address then is the connection's, as rate limits need).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0))
    #: Sign-in attempts per client address and e-mail address (Flask-Limiter syntax).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    #: Sign-in attempts per client address, whatever the e-mail (password spraying).
    LOGIN_RATE_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_RATE_LIMIT_PER_ADDRESS", "60 per hour")
    #: Lifetime of a set-password link (invitation or reset), in seconds.
    PASSWORD_LINK_MAX_AGE = int(os.environ.get("PASSWORD_LINK_MAX_AGE", 48 * 3600))
    #: Development: the forgot-password page also writes the link to the log (it is e-mailed too),
    #: and the log mail backend shows bodies holding a link.
    PASSWORD_LINKS_IN_LOG = True
    #: The address people open the application at; links in e-mails start with it.
    APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:5000").rstrip("/")
    #: E-mail (issue 6): ``log`` writes messages to the log (development), ``smtp`` sends them.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    #: STARTTLS after connecting (port 587); MAIL_USE_SSL: TLS from the start (port 465).
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    #: ``"Display Name <address>"``; the display name may be in any script.
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Pillars secretariat <pillars@localhost>"
    )
    #: Seconds any one SMTP operation (connect, command, data) may take before it fails.
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", 10))
    #: Failed messages are retried after MAIL_RETRY_MINUTES × 3^(attempts − 1) minutes...
    MAIL_RETRY_MINUTES = float(os.environ.get("MAIL_RETRY_MINUTES", 5))
    #: ...and abandoned when attempt number MAIL_MAX_ATTEMPTS fails.
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", 6))
    #: Try each message right after the step that caused it commits (default). Off ("0"): every
    #: message waits for `flask --app wsgi outbox send` (cron), keeping SMTP out of requests.
    MAIL_DELIVER_AFTER_COMMIT = _flag("MAIL_DELIVER_AFTER_COMMIT", True)
    #: Secretariat accounts must sign in with a second factor (issue 14). Off by default in
    #: development so that the demo's secretariat signs in with its password alone; always on
    #: under the production config (and in the test suite).
    TWO_FACTOR_REQUIRED_FOR_SECRETARIAT = _flag("TWO_FACTOR_REQUIRED_FOR_SECRETARIAT", False)
    #: Strict-Transport-Security max-age in seconds (production only; 0 = no header).
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", 365 * 24 * 3600))
    #: ``json``: one JSON object per log line, with the request id; anything else: plain text.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    #: Error reports go to Sentry only when this is set (nothing is sent anywhere otherwise).
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
    #: `flask retention run`: bodies of delivered notifications older than this many days are
    #: removed (the delivery record stays).
    RETENTION_NOTIFICATION_DAYS = int(os.environ.get("RETENTION_NOTIFICATION_DAYS", 180))
    #: Static files may be cached this long (their URLs carry a hash of their content).
    SEND_FILE_MAX_AGE_DEFAULT = int(os.environ.get("STATIC_MAX_AGE", 365 * 24 * 3600))


class TestConfig(Config):
    """Used by the test suite: database from ``TEST_DATABASE_URL`` or a SQLite file per test."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashing: tests create many accounts
    RATELIMIT_ENABLED = False  # tests sign in hundreds of times; tests/test_security.py turns it on
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_BACKEND = "log"  # tests of SMTP delivery start their own server and switch to smtp
    TWO_FACTOR_REQUIRED_FOR_SECRETARIAT = True  # as in production; `login_as` does both steps


class ProductionConfig(Config):
    """Production: PostgreSQL from ``DATABASE_URL``, secure cookies, no demo data."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    DEMO_ALLOWED = False
    PASSWORD_LINKS_IN_LOG = False  # a log reader must not be able to take over accounts
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    TWO_FACTOR_REQUIRED_FOR_SECRETARIAT = True  # not an option in production
    #: Set-up checks refuse these: production needs its own database and key.
    REQUIRED_SETTINGS = ("DATABASE_URL", "SECRET_KEY")


CONFIGS = {"development": Config, "production": ProductionConfig, "testing": TestConfig}


def config_from_env() -> type[Config]:
    """Return the configuration class named by ``PILLARS_CONFIG`` (default ``development``).

    Raises:
        KeyError: if the name is unknown.
    """
    return CONFIGS[os.environ.get("PILLARS_CONFIG", "development")]
