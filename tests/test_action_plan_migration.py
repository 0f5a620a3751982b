"""Migration 0010_action_plans keeps existing responses' planned actions as measures (issue 17),
on SQLite and PostgreSQL (``TEST_DATABASE_URL``)."""

from __future__ import annotations

from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, insert, select

from app import create_app
from app.extensions import db as _db
from tests.conftest import _make_config
from tests.test_migrations import FIRST, MIGRATIONS, SEED, WHEN

BEFORE = "0009_i15_languages"
RECOMMENDATIONS = [
    {
        "id": 1,
        "review_id": 1,
        "section_id": 1,
        "text": "Establish an independent police complaints authority.",
        "priority": "high",
        "action_category": 5,
        "addressee": "state",
        "created_at": WHEN,
    },
    {
        "id": 2,
        "review_id": 1,
        "section_id": 1,
        "text": "Train police officers in human rights.",
        "priority": "medium",
        "action_category": 4,
        "addressee": "state",
        "created_at": WHEN,
    },
    {
        "id": 3,
        "review_id": 1,
        "section_id": 1,
        "text": "Consider ratifying the Optional Protocol.",
        "priority": "low",
        "action_category": 3,
        "addressee": "state",
        "created_at": WHEN,
    },
]
RESPONSES = [
    {
        "id": 1,
        "recommendation_id": 1,
        "position": "supported",
        "explanation": "Agreed.",
        "planned_action": "Draft the Police Oversight Bill\nand table it in parliament.",
        "responsible_institution": "Ministry of Interior",
        "target_date": date(2028, 6, 30),
        "updated_at": WHEN,
    },
    {
        "id": 2,
        "recommendation_id": 2,
        "position": "supported",
        "explanation": "Agreed.",
        "planned_action": "Curriculum at the police academy.",
        "responsible_institution": "  ministry of interior ",
        "target_date": None,
        "updated_at": WHEN,
    },
    {
        "id": 3,
        "recommendation_id": 3,
        "position": "noted",
        "explanation": "Under study.",
        "planned_action": "",
        "responsible_institution": "",
        "target_date": None,
        "updated_at": WHEN,
    },
]


def test_planned_actions_become_measures_and_the_responses_stay(empty_db_url):
    app = create_app(_make_config(empty_db_url))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=FIRST)
        with _db.engine.begin() as conn:
            metadata = MetaData()
            metadata.reflect(conn, only=list(SEED))
            for name, rows in SEED.items():
                conn.execute(insert(metadata.tables[name]), rows)
        upgrade(directory=MIGRATIONS, revision=BEFORE)
        with _db.engine.begin() as conn:
            metadata = MetaData()
            metadata.reflect(conn, only=["recommendation", "response"])
            conn.execute(insert(metadata.tables["recommendation"]), RECOMMENDATIONS)
            conn.execute(insert(metadata.tables["response"]), RESPONSES)
        upgrade(directory=MIGRATIONS)
        with app.test_request_context():
            from app.models import Cycle, Institution, Measure, Response

            measures = _db.session.scalars(select(Measure).order_by(Measure.id)).all()
            assert [m.title for m in measures] == [
                "Draft the Police Oversight Bill",
                "Curriculum at the police academy.",
            ]
            first, second = measures
            assert first.description.endswith("table it in parliament.")
            assert first.due_date == date(2028, 6, 30) and second.due_date is None
            assert [r.id for r in first.recommendations] == [1]
            assert [r.id for r in second.recommendations] == [2]
            assert str(first.status) == "planned"
            # one institution on Kenya's list, named as first typed, lead of both measures
            institutions = _db.session.scalars(select(Institution)).all()
            assert [(i.state_id, i.name) for i in institutions] == [(1, "Ministry of Interior")]
            assert first.lead_institution_id == second.lead_institution_id == institutions[0].id
            # the responses are unchanged
            response = _db.session.get(Response, 1)
            assert response.planned_action.startswith("Draft the Police Oversight Bill")
            assert response.responsible_institution == "Ministry of Interior"
            cycle = _db.session.get(Cycle, 1)
            assert (cycle.regular_interval_months, cycle.enhanced_interval_months) == (12, 6)
            assert cycle.not_implemented_threshold == 50
            _db.session.remove()
        downgrade(directory=MIGRATIONS, revision=BEFORE)
        with _db.engine.connect() as conn:
            responses = conn.execute(select(_response(conn))).all()
            assert len(responses) == 3
        _db.engine.dispose()


def _response(conn):
    metadata = MetaData()
    metadata.reflect(conn, only=["response"])
    return metadata.tables["response"]
