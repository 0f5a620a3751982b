"""The one clock of the application, so that time-dependent rules can be frozen in tests.

Set ``PILLARS_FROZEN_NOW`` in the app config to an aware datetime to freeze it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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
    """The last second of ``day`` in IANA zone ``zone`` ("23:59:59 there", DESIGN §8), as an aware
    UTC datetime.

    Computed as one second before the next local midnight, so that days on which daylight saving
    begins or ends at midnight (Cairo, Santiago, Beirut, Nuuk…) end at their real last second
    rather than an hour early or on the wrong day.
    """
    tz = ZoneInfo(zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    return next_midnight.astimezone(UTC) - timedelta(seconds=1)
