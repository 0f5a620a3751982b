"""The one clock of the application, so that time-dependent rules can be frozen in tests.

Set ``PILLARS_FROZEN_NOW`` in the app config to an aware datetime to freeze it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def now() -> datetime:
    """The current instant, aware, in UTC (or the frozen instant in tests)."""
    if has_app_context():
        frozen = current_app.config.get("PILLARS_FROZEN_NOW")
        if frozen is not None:
            return frozen
    return datetime.now(UTC)


def end_of_day(day: date, zone: str) -> datetime:
    """The instant 23:59:59 of ``day`` in IANA zone ``zone``, as an aware UTC datetime (§8)."""
    local = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)
