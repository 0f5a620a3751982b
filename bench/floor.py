"""The benchmark's floor: the cycle dashboard's figures from ONE hand-written SQL statement.

A tiny WSGI application, outside the Pillars app (no Flask, no ORM objects, no session, no
template): ``GET /floor?cycle=<id>`` runs `FLOOR_SQL` on the database of ``DATABASE_URL`` with its
own SQLAlchemy engine and answers the figures as JSON. It computes what the dashboard shows
(`app/services/dashboard.py`): every review's state, phase, entry into the phase ("days in
phase"), next deadline and overdue flag; the reviewers' workload by assignment status and lead
roles; responses and latest implementation assessments counted by section and by state (every
section listed, even without figures). What the dashboard page costs beyond this is the price of
the framework, the ORM and the template; `bench/run.py` prints each page's ratio to it.

Served by gunicorn like the app: ``gunicorn -w 2 bench.floor:app``. Times: UTC; "days in phase"
counts whole days to the request's instant, as the dashboard does.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from sqlalchemy import create_engine, event, text

#: One statement, four kinds of rows (columns: kind, id, label, a, b, at1, at2, n, m).
FLOOR_SQL = """
WITH cyc AS (
    SELECT r.id, r.status, r.created_at, s.name AS state_name, s.code AS state_code,
           -- the deadline stage that matters in each status (worklist.STAGE_OF_STATUS)
           CASE r.status
               WHEN 'self_assessment' THEN 'self_assessment'
               WHEN 'screening' THEN 'self_assessment'
               WHEN 'peer_assignment' THEN 'evaluation'
               WHEN 'evaluation' THEN 'evaluation'
               WHEN 'factual_check' THEN 'factual_check'
               WHEN 'response' THEN 'response'
               WHEN 'follow_up' THEN 'follow_up'
               WHEN 'enhanced_follow_up' THEN 'follow_up'
           END AS stage
    FROM review r JOIN state s ON s.id = r.state_id
    WHERE r.cycle_id = :cycle
),
recs AS (
    SELECT rec.id, rec.section_id, cyc.state_name, cyc.id AS review_id,
           -- one index lookup per recommendation (a join scans every cycle's responses)
           (SELECT resp.position FROM response resp WHERE resp.recommendation_id = rec.id)
               AS position,
           -- the latest assessment, kept on the recommendation (migration 0009)
           rec.latest_assessment_status AS latest_status
    FROM cyc
    JOIN recommendation rec ON rec.review_id = cyc.id
)
SELECT 'review' AS kind, cyc.id, cyc.state_name AS label, cyc.state_code AS a, cyc.status AS b,
       -- the entry into the status: an index lookup per review, not a scan of every cycle's log
       COALESCE((SELECT MAX(t.created_at) FROM transition_log t
                 WHERE t.subject_type = 'review' AND t.subject_id = cyc.id
                   AND t.to_state = cyc.status AND t.from_state <> t.to_state),
                cyc.created_at) AS at1,
       d.due_at AS at2, 0 AS n, 0 AS m
FROM cyc
LEFT JOIN review_deadline d ON d.review_id = cyc.id AND d.stage = cyc.stage
UNION ALL
SELECT 'workload', u.id, u.display_name, COALESCE(st.name, '-'), asg.status, NULL, NULL,
       COUNT(asg.id), SUM(CASE WHEN asg.is_lead THEN 1 ELSE 0 END)
FROM assignment asg
JOIN cyc ON cyc.id = asg.review_id
JOIN user_account u ON u.id = asg.reviewer_id
LEFT JOIN state st ON st.id = u.state_id
GROUP BY u.id, u.display_name, st.name, asg.status
UNION ALL
SELECT 'section', sec.id, sec.title, sec.code, NULL, NULL, NULL, sec.number, 0
FROM framework_section sec JOIN cycle c ON c.framework_id = sec.framework_id
WHERE c.id = :cycle
UNION ALL
SELECT 'response', recs.section_id, recs.state_name, COALESCE(recs.position, 'none'), NULL,
       NULL, NULL, COUNT(recs.id), MIN(recs.review_id)
FROM recs
GROUP BY recs.section_id, recs.state_name, recs.position
UNION ALL
SELECT 'implementation', recs.section_id, recs.state_name,
       COALESCE(recs.latest_status, 'not_assessed'), NULL, NULL, NULL, COUNT(recs.id),
       MIN(recs.review_id)
FROM recs
GROUP BY recs.section_id, recs.state_name, recs.latest_status
"""

ACTIVE = ("invited", "accepted")
LEAD_STATUSES = ("invited", "accepted", "submitted")


def _instant(value) -> datetime | None:
    """A stored naive-UTC instant (a string on SQLite, a datetime on PostgreSQL), aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def figures(connection, cycle_id: int, now: datetime) -> dict:
    """The dashboard's figures of cycle ``cycle_id`` at ``now`` (aware UTC), JSON-ready."""
    reviews, workload, sections = [], {}, {}
    by = {k: {} for k in ("responses", "implementation")}
    for kind, ident, label, a, b, at1, at2, n, m in connection.execute(
        text(FLOOR_SQL), {"cycle": cycle_id}
    ):
        if kind == "review":
            entered, due = _instant(at1), _instant(at2)
            reviews.append(
                {
                    "id": ident,
                    "state": label,
                    "code": a,
                    "status": b,
                    "days_in_phase": max(0, (now - entered).days),
                    "due_at": due.isoformat() if due else None,
                    "overdue": due is not None and now > due,
                }
            )
        elif kind == "workload":
            person = workload.setdefault(
                ident, {"name": label, "state": a, "by_status": {}, "leads": 0}
            )
            person["by_status"][b] = n
            if b in LEAD_STATUSES:
                person["leads"] += int(m or 0)
        elif kind == "section":
            sections[ident] = f"{n}. {label}"
        else:
            kinds = by["responses" if kind == "response" else "implementation"]
            section = kinds.setdefault("by_section", {}).setdefault(ident, {})
            section[a] = section.get(a, 0) + n
            state = kinds.setdefault("by_state", {}).setdefault(label, {})
            state[a] = state.get(a, 0) + n
            kinds.setdefault("review_of", {})[label] = m  # the state's row links to its review
    for kinds in by.values():
        counted = kinds.get("by_section", {})
        kinds["by_section"] = {label: counted.get(sid, {}) for sid, label in sections.items()}
    reviews.sort(key=lambda row: row["state"])
    people = sorted(
        workload.values(),
        key=lambda p: (-sum(p["by_status"].get(s, 0) for s in ACTIVE), p["name"]),
    )
    return {
        "reviews": reviews,
        "overdue": sum(1 for row in reviews if row["overdue"]),
        "workload": people,
        **by,
    }


def _engine():
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("Set DATABASE_URL to the benchmark's database.")
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):  # the app's settings: readers never block
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA busy_timeout=5000")

    else:

        @event.listens_for(engine, "connect")
        def _no_jit(dbapi_connection, _record):  # the app's settings (app/__init__.py)
            dbapi_connection.execute("SET jit = off")
            dbapi_connection.commit()

    return engine


_engines: list = []


def app(environ, start_response):
    """WSGI: ``/floor?cycle=<id>`` → 200 JSON figures; anything else → 404."""
    if environ.get("PATH_INFO") != "/floor":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    query = dict(
        part.split("=", 1) for part in environ.get("QUERY_STRING", "").split("&") if "=" in part
    )
    if not _engines:  # one engine a worker process, made after gunicorn forks
        _engines.append(_engine())
    with _engines[0].connect() as connection:
        body = json.dumps(
            figures(connection, int(query.get("cycle", "0")), datetime.now(UTC))
        ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
