"""Alembic: one head, and `upgrade head` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db as _db
from tests.conftest import IS_PG, PG_URL, _make_config

MIGRATIONS = "migrations"


def test_there_is_a_single_alembic_head():
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


@pytest.fixture
def empty_db_url(tmp_path):
    if not IS_PG:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    name = f"pillars_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_head_on_empty_database_matches_the_models_and_round_trips(empty_db_url):
    app = create_app(_make_config(empty_db_url))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with _db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, _db.metadata)
        assert diff == [], diff
        downgrade(directory=MIGRATIONS, revision="base")
        with _db.engine.connect() as conn:
            remaining = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        upgrade(directory=MIGRATIONS)
        with _db.engine.connect() as conn:
            assert "review" in inspect(conn).get_table_names()
        _db.engine.dispose()
