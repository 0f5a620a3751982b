"""Alembic: one head, and `upgrade head` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, insert, inspect, select

from app import create_app
from app.extensions import db as _db
from tests.conftest import _make_config

MIGRATIONS = "migrations"


def test_there_is_a_single_alembic_head():
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


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


# --- data survives upgrades ------------------------------------------------------------------

FIRST = "0001"
WHEN = datetime(2027, 3, 14, 23, 59, 58, 123456)  # naive UTC, as UTCDateTime stores instants
SEED = {
    "state": [
        {"id": 1, "code": "KEN", "name": "Kenya", "iso2": "KE", "regional_group": "African Group"}
    ],
    "framework": [
        {
            "id": 1,
            "code": "r2p-capacity",
            "version": 1,
            "title": "R2P capacity framework",
            "source": "Brief, §2–§4",
            "loaded_at": WHEN,
        }
    ],
    "framework_section": [
        {
            "id": 1,
            "framework_id": 1,
            "number": 1,
            "code": "SEC",
            "title": "Security sector",
            "pillar": 1,
            "description": "Forces de sécurité",
            "brief_section": "§3.1",
        }
    ],
    "question": [
        {
            "id": 1,
            "section_id": 1,
            "code": "SEC-1",
            "position": 1,
            "prompt": "Civilian control?",
            "guidance": "",
            "answer_type": "yes_no_partial",
            "required": True,
            "expected_evidence": "",
            "brief_section": "§3.1",
            "prefill": None,
        }
    ],
    "cycle": [
        {
            "id": 1,
            "name": "2027 cycle",
            "framework_id": 1,
            "time_zone": "Africa/Nairobi",
            "starts_on": date(2027, 1, 1),
            "status": "open",
            "self_assessment_days": 60,
            "evaluation_days": 90,
            "factual_check_days": 30,
            "response_days": 60,
            "follow_up_days": 365,
            "team_size": 2,
            "created_at": WHEN,
            "version_id": 3,
        }
    ],
    "user_account": [
        {
            "id": 1,
            "email": "amani@example.org",
            "display_name": "Amani Wanjirū — أماني",
            "password_hash": "scrypt:32768:8:1$salt$hash",
            "role": "focal_point",
            "state_id": 1,
            "active": True,
            "created_at": WHEN,
            "session_token": "0123456789abcdef0123456789abcdef",
        }
    ],
    "review": [
        {
            "id": 1,
            "cycle_id": 1,
            "state_id": 1,
            "status": "factual_check",
            "status_changed_at": WHEN,
            "created_at": datetime(2027, 1, 1, 0, 0),
            "version_id": 7,
        }
    ],
    "answer": [
        {
            "id": 1,
            "review_id": 1,
            "question_id": 1,
            "level": None,
            "choice": "partial",
            "narrative": "Police présentes dans 40 des 47 comtés 🇰🇪\nLigne 2",
            "evidence": "Act 2011",
            "prefilled": True,
            "updated_at": WHEN,
            "updated_by_id": 1,
        }
    ],
    "transition_log": [
        {
            "id": 1,
            "subject_type": "review",
            "subject_id": 1,
            "event": "submit_draft_report",
            "from_state": "evaluation",
            "to_state": "factual_check",
            "actor_id": 1,
            "created_at": WHEN,
            "reason": "Prêt ✓",
            "payload": {
                "deadline": "2027-04-13T20:59:59+00:00",
                "sections": [1, 2.5, None, True],
                "note": {"ünïcode": "ok"},
            },
        }
    ],
}


def _read_seeded(conn) -> dict[str, list[dict]]:
    metadata = MetaData()
    metadata.reflect(conn, only=list(SEED))
    rows = {}
    for name, seeded in SEED.items():
        table = metadata.tables[name]
        columns = [table.c[column] for column in seeded[0]]
        rows[name] = [
            dict(row._mapping) for row in conn.execute(select(*columns).order_by(table.c.id))
        ]
    return rows


def _normalised(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """JSON read back as text on some drivers, booleans as 0/1 on SQLite: compare meanings."""
    out = {}
    for name, table_rows in rows.items():
        out[name] = []
        for row in table_rows:
            fixed = {}
            for key, value in row.items():
                if key == "payload" and isinstance(value, str):
                    value = json.loads(value)
                if key in ("active", "prefilled", "required"):
                    value = bool(value)
                fixed[key] = value
            out[name].append(fixed)
    return out


def test_seeded_values_survive_upgrade_and_a_downgrade_round_trip(empty_db_url):
    """Dates with microseconds, JSON payloads, enum values and Unicode text written at the first
    revision read back identical after `upgrade head`, and after downgrading to the first
    revision and upgrading again (SQLite batch mode copies tables: a lossy cast would show)."""
    app = create_app(_make_config(empty_db_url))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=FIRST)
        metadata = MetaData()
        with _db.engine.begin() as conn:
            metadata.reflect(conn, only=list(SEED))
            for name, rows in SEED.items():
                conn.execute(insert(metadata.tables[name]), rows)
        upgrade(directory=MIGRATIONS)
        with _db.engine.connect() as conn:
            assert _normalised(_read_seeded(conn)) == SEED
        downgrade(directory=MIGRATIONS, revision=FIRST)
        upgrade(directory=MIGRATIONS)
        with _db.engine.connect() as conn:
            assert _normalised(_read_seeded(conn)) == SEED
            # the app reads them as aware UTC instants
        with app.test_request_context():
            from app.models import Review, TransitionLog

            review = _db.session.get(Review, 1)
            assert review.status_changed_at == WHEN.replace(tzinfo=UTC)
            assert review.status == "factual_check"
            log = _db.session.get(TransitionLog, 1)
            assert log.payload["note"] == {"ünïcode": "ok"}
            _db.session.remove()
        _db.engine.dispose()
