"""The benchmark's floor (`bench/floor.py`) computes the same figures as the cycle dashboard, so a
ratio to it compares the page with the same work done by one SQL statement (issue 9)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.services import dashboard as dashboard_service
from bench import floor
from tests.test_dashboard import populate


def _nonzero(rows: dict) -> dict:
    return {label: {k: n for k, n in row.items() if n} for label, row in rows.items()}


def test_floor_figures_equal_the_dashboards(app, db, make, frozen_now):
    now = frozen_now(datetime(2027, 6, 1, 12, tzinfo=UTC))
    cycle, _secretariat, _reviewer = populate(db, make, ["KEN", "GHA", "BRA", "NOR", "FRA"])
    with app.test_request_context():
        board = dashboard_service.build(cycle)
    assert board.reviews and board.workload

    got = floor.figures(db.session.connection(), cycle.id, now)

    assert [
        (r["state"], r["status"], r["days_in_phase"], r["due_at"], r["overdue"])
        for r in got["reviews"]
    ] == [
        (
            row.state_name,
            row.status.value,
            row.days_in_phase,
            row.due_at.isoformat() if row.due_at else None,
            row.overdue,
        )
        for row in board.reviews
    ]
    assert got["overdue"] == board.overdue_count
    assert [(p["name"], p["by_status"], p["leads"]) for p in got["workload"]] == [
        (w.name, w.by_status, w.leads) for w in board.workload
    ]
    for kind in ("responses", "implementation"):
        for by in ("section", "state"):
            figures = getattr(board, f"{kind}_by_{by}")
            assert _nonzero(got[kind][f"by_{by}"]) == _nonzero(figures.rows), (kind, by)
            if by == "section":  # every section listed, in order, even without figures
                assert list(got[kind]["by_section"]) == list(figures.rows)
            else:  # the drill-down review of each state's row
                assert got[kind]["review_of"] == figures.review_of
