"""Test fixtures: a fresh app and database per test, on SQLite or PostgreSQL.

The database is built once per session (schema + reference data: 193 states, ratifications,
framework v1) as a template, then copied for each test: a file copy on SQLite, ``CREATE DATABASE
... TEMPLATE`` on PostgreSQL. Set ``TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/x``
to run on PostgreSQL (the name's database is a prefix; per-test databases are created and dropped).
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from app.models import FrameworkSection
from config import TestConfig
from workflows import AssignmentStatus, ReviewStatus

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_PG = PG_URL.startswith("postgresql")


def _seed_reference() -> None:
    from app.services import reference

    reference.load_states()
    reference.load_ratifications()
    reference.load_all_frameworks()
    _db.session.commit()


def _make_config(url: str) -> type[TestConfig]:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    return Config


def _admin_engine():
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Build the template database once; yields a factory of fresh per-test database URLs."""
    if IS_PG:
        base = make_url(PG_URL)
        template = f"pillars_tpl_{uuid.uuid4().hex[:8]}"
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{template}"'))
        url = base.set(database=template).render_as_string(hide_password=False)
        app = create_app(_make_config(url))
        with app.app_context():
            _db.create_all()
            _seed_reference()
            _db.session.remove()
            _db.engine.dispose()
        created: list[str] = []

        def fresh() -> str:
            name = f"pillars_t_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            created.append(name)
            return base.set(database=name).render_as_string(hide_password=False)

        yield fresh
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()
    else:
        folder = tmp_path_factory.mktemp("db")
        template = folder / "template.sqlite"
        app = create_app(_make_config(f"sqlite:///{template}"))
        with app.app_context():
            _db.create_all()
            _seed_reference()
            _db.session.remove()
            _db.engine.dispose()

        def fresh() -> str:
            path = folder / f"{uuid.uuid4().hex}.sqlite"
            shutil.copy(template, path)
            return f"sqlite:///{path}"

        yield fresh


class FreshContextClient(FlaskClient):
    """Each request runs in its own app context, as in production: a fresh ``g`` (no user or
    access cache carried over from the previous request) and its own database session."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(template_db, tmp_path):
    url = template_db()
    app = create_app(_make_config(url))
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()
    if IS_PG:
        admin = _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_db_url(tmp_path):
    if not IS_PG:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    name = f"pillars_mig_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Sign ``user`` in on ``client`` (or on another client given as ``on=``)."""

    def login(user, password: str = "correct-horse-battery", on=None):
        target = on or client
        target.post("/logout")
        enrol_if_required(user)
        response = target.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if response.headers["Location"].endswith("/login/code"):
            response = target.post("/login/code", data={"code": current_code(user)})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return target

    return login


#: The authenticator key `login_as` enrols accounts that must use a second factor with.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_if_required(user) -> None:
    """Give ``user`` the test key if their role must use a second factor and they have none
    (the secretariat, as in production), so that `login_as` can do the second step."""
    from app.models import User
    from app.services import two_factor

    stored = _db.session.get(User, user.id)
    if two_factor.needs_enrolment(stored):
        two_factor.enrol_with_secret(stored, TEST_TOTP_SECRET)
        _db.session.commit()


def current_code(user) -> str:
    """The authenticator code of ``user`` now (application clock); the last step used is
    forgotten first, so that one test may sign the same person in on several clients within
    30 seconds (the replay check itself is tested in tests/test_two_factor.py)."""
    import pyotp
    from sqlalchemy import update

    from app.models import User
    from app.services import clock

    # an UPDATE, not an attribute change: the session's copy may be older than the last sign-in
    _db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    _db.session.commit()
    stored = _db.session.get(User, user.id)
    return pyotp.TOTP(stored.totp_secret).at(clock.now())


@pytest.fixture
def make(db):
    """Factories for users, cycles, reviews and assignments (see tests/factories.py)."""
    from tests.factories import Factories

    return Factories(db)


@pytest.fixture
def frozen_now(app):
    """Freeze the application clock: ``frozen_now(datetime)``."""

    def freeze(instant):
        app.config["PILLARS_FROZEN_NOW"] = instant
        return instant

    yield freeze
    app.config.pop("PILLARS_FROZEN_NOW", None)


@pytest.fixture
def team(make, db):
    """A review of Kenya in evaluation with an accepted lead (France) and member (Brazil)."""
    secretariat = make.secretariat()
    review = make.review("KEN")
    lead = make.reviewer("FRA")
    member = make.reviewer("BRA")
    lead_a = make.assignment(
        review, lead, lead=True, status=AssignmentStatus.ACCEPTED, actor=secretariat
    )
    member_a = make.assignment(review, member, status=AssignmentStatus.ACCEPTED, actor=secretariat)
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    return {
        "secretariat": secretariat,
        "review": review,
        "lead": lead,
        "member": member,
        "lead_a": lead_a,
        "member_a": member_a,
        "sections": list(
            db.session.scalars(
                select(FrameworkSection)
                .where(FrameworkSection.framework_id == review.cycle.framework_id)
                .order_by(FrameworkSection.number)
            )
        ),
    }


def pytest_configure(config):
    """Compile the interface catalogs when they changed (as ``make install`` does), so that
    running pytest directly shows translated pages."""
    from tests.catalogs import compile_catalogs

    compile_catalogs()
