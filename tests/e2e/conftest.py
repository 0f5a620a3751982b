"""Browser fixtures: a live Pillars server on a fresh SQLite database, and Debian's Chromium.

The server is the real application (CSRF on, as in production) served by werkzeug in a
background thread on 127.0.0.1 (an ephemeral port, or ``PILLARS_E2E_PORT``); the database is a
copy of the suite's template (193 states, ratifications, framework v1) — accounts and cycles are
made by each test. Chromium is ``/usr/bin/chromium`` or ``PILLARS_CHROMIUM``, launched headless
with ``--no-sandbox`` through Playwright (never a browser download).

Skipping: without Chromium the tests are skipped with the reason, unless ``CI`` or
``PILLARS_REQUIRE_E2E=1`` is set, where a missing browser fails them. Under
``TEST_DATABASE_URL`` (the PostgreSQL run) they are skipped: they are browser tests, and the same
flows run on PostgreSQL through ``tests/test_full_cycle.py``.

On a failure every open page is saved as ``test-artifacts/<test>-<person>.png``.

Language: `Interface` gives a test the interface's words in one language, read from the compiled
catalogs (``translations/<lang>/LC_MESSAGES/messages.mo``, built by the suite's
``pytest_configure``), so that one test can find its buttons and labels in English, French or
Arabic; `People` opens each person's browser asking for that language (Accept-Language).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.extensions import db as _db
from config import TestConfig
from tests.conftest import IS_PG
from tests.factories import PASSWORD, Factories

CHROMIUM = os.environ.get("PILLARS_CHROMIUM", "/usr/bin/chromium")
REQUIRED = bool(os.environ.get("CI")) or os.environ.get("PILLARS_REQUIRE_E2E") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: axe-core lives beside the tests, outside app/static: it is never served to users (issue 14).
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"
_TOKEN = "\x00{}\x00"


class Interface:
    """The interface's words in ``language`` (``"en"``, ``"fr"``, ``"ar"``…), as the pages show
    them: ``t("Create cycle")`` → ``"Créer le cycle"``; ``t("Cycle %(name)s created.",
    name="2027")`` fills the placeholders after translating, as the application does. English
    returns the message id itself. Raises ``FileNotFoundError`` when a language's compiled
    catalog is missing (a test must not silently look for English words in a French page)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.direction = "rtl" if language == "ar" else "ltr"
        if language == "en":
            self.catalog: NullTranslations = NullTranslations()
            return
        catalog = Translations.load(str(TRANSLATIONS), [language])
        if not isinstance(catalog, Translations):
            raise FileNotFoundError(f"no compiled catalog for {language} under {TRANSLATIONS}")
        self.catalog = catalog

    def __call__(self, msgid: str, **values) -> str:
        text = self.catalog.gettext(msgid)
        return text % values if values else text

    def n(self, singular: str, plural: str, num: int, **values) -> str:
        """The plural message for ``num`` (``num`` is also a placeholder value)."""
        return self.catalog.ngettext(singular, plural, num) % {"num": num, **values}

    def pattern(self, msgid: str, **regexes: str) -> re.Pattern:
        """The translated message as a regular expression, each named placeholder matching
        ``regexes[name]``: ``pattern("Saved at %(time)s (%(zone)s).", time=r"\\d\\d:\\d\\d",
        zone="Africa/Nairobi")``."""
        tokens = {name: _TOKEN.format(name) for name in regexes}
        text = re.escape(self(msgid, **tokens))
        for name, regex in regexes.items():
            text = text.replace(re.escape(tokens[name]), regex)
        return re.compile(text)

    def starting(self, msgid: str, **values) -> re.Pattern:
        """The translated message at the start of a name (a link followed by more text)."""
        return re.compile("^" + re.escape(self(msgid, **values)))


def _missing_browser() -> str | None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"end-to-end browser tests need Chromium at {CHROMIUM} "
        "(apt-get install chromium, or set PILLARS_CHROMIUM)"
    )


def pytest_collection_modifyitems(config, items):
    reason = None
    if IS_PG:
        reason = (
            "browser tests run on SQLite only; the PostgreSQL run covers the same flows "
            "through tests/test_full_cycle.py"
        )
    elif not REQUIRED:
        reason = _missing_browser()
    if reason:
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        pages = getattr(item, "_open_pages", {})
        if pages:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name)
            for who, page in pages.items():
                # a page already closed has nothing to keep
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{who}.png"), full_page=True)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (fails under CI when missing)."""
    missing = _missing_browser()
    if missing:
        pytest.fail(missing + " — CI never skips the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@dataclass
class LiveServer:
    """The running application: ``url`` (``http://127.0.0.1:<port>``), ``app`` and factories
    that write to its database from the test thread (``make``, ``db``)."""

    app: object
    url: str
    make: Factories
    db: object = _db

    def read(self, query):
        """Rows of ``query`` as committed by the server's requests."""
        self.db.session.expire_all()
        return self.db.session.scalars(query).all()

    def one(self, query):
        self.db.session.expire_all()
        return self.db.session.scalar(query)


class _QuietHandler(WSGIRequestHandler):
    """No access log: a failing test's output shows the assertion, not every static file."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture
def live(template_db):
    """A live server on a fresh database, CSRF on; stopped after the test."""

    url = template_db()

    class E2EConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        WTF_CSRF_ENABLED = True

    app = create_app(E2EConfig)
    server = make_server(
        "127.0.0.1",
        int(os.environ.get("PILLARS_E2E_PORT", "0")),
        app,
        threaded=True,
        request_handler=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", make=Factories(_db))
        _db.session.remove()
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        _db.engine.dispose()


@dataclass
class People:
    """One browser context per person, each signed in through the login page."""

    browser: object
    live: LiveServer
    item: object
    viewport: dict = field(default_factory=lambda: {"width": 1366, "height": 768})
    language: str = "en"
    pages: dict = field(default_factory=dict)
    contexts: list = field(default_factory=list)

    def page(self, who: str, user=None, viewport: dict | None = None):
        """The page of ``who``; on first use a new context, signed in as ``user``."""
        if who in self.pages:
            return self.pages[who]
        context = self.browser.new_context(
            base_url=self.live.url,
            viewport=viewport or self.viewport,
            locale="en-GB" if self.language == "en" else self.language,
            extra_http_headers={"Accept-Language": self.language},
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        self.pages[who] = page
        self.item._open_pages = self.pages
        if user is not None:
            sign_in_as(page, user, t=Interface(self.language))
        return page

    def close(self):
        for context in self.contexts:
            context.close()


def sign_in_as(page, user, t: Interface | None = None) -> None:
    """Sign ``user`` in, with the second step when their role must use one (the secretariat:
    enrolled with the test key first, as `login_as` does); labels read in ``t``'s language."""
    from tests.conftest import current_code, enrol_if_required

    enrol_if_required(user)
    sign_in(page, user.email, code=current_code(user) if user.has_two_factor else None, t=t)


def sign_in(
    page, email: str, password: str = PASSWORD, code: str | None = None, t: Interface | None = None
) -> None:
    """Sign in through the login page, its labels read in ``t``'s language (English by
    default); ``code``: the authenticator code of the second step."""
    t = t or Interface("en")
    page.goto("/login")
    page.get_by_label(t("E-mail")).fill(email)
    page.get_by_label(t("Password")).fill(password)
    page.get_by_role("button", name=t("Sign in")).click()
    if code is not None:
        page.wait_for_url("**/login/code")
        page.get_by_label(t("Code")).fill(code)
        page.get_by_role("button", name=t("Verify")).click()
    page.wait_for_url("**/home")


@pytest.fixture
def people(browser, live, request):
    crowd = People(browser=browser, live=live, item=request.node)
    yield crowd
    crowd.close()
