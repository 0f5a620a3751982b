"""Settings every new database connection gets (``app/__init__.py``): SQLite's foreign keys and
WAL, PostgreSQL without JIT compilation (issue 20: compiling cost 35–45 ms of the dashboard)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import IS_PG


def _fresh_connection_value(db, statement: str):
    db.engine.dispose()  # a new connection, made through the connect event
    with db.engine.connect() as connection:
        value = connection.execute(text(statement)).scalar()
        connection.rollback()  # the pool's reset on return: the setting must survive it
    with db.engine.connect() as connection:
        return value, connection.execute(text(statement)).scalar()


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL's JIT setting")
def test_postgresql_connections_do_not_jit_compile(db):
    assert _fresh_connection_value(db, "SHOW jit") == ("off", "off")


@pytest.mark.skipif(IS_PG, reason="SQLite's pragmas")
def test_sqlite_connections_enforce_foreign_keys_and_use_wal(db):
    assert _fresh_connection_value(db, "PRAGMA foreign_keys") == (1, 1)
    journal = _fresh_connection_value(db, "PRAGMA journal_mode")
    assert journal[0] in ("wal", "memory")  # an in-memory test database has no WAL
