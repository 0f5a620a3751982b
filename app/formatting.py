"""Formatting of dates, instants and sizes for people, shared by services and pages.

Lives below both ``app.services`` and ``app.web`` so that a service (an e-mail's deadline) and a
page format a value the same way without a service importing the web layer (STYLE.md, "Growing
the house"). Instants are stored in UTC and shown in the cycle's IANA time zone, zone named
(DESIGN §8).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def format_instant(value: datetime | None, zone: str = "UTC", with_zone: bool = True) -> str:
    """``12 Mar 2027, 23:59 (Africa/Nairobi)``: an aware instant shown in ``zone`` (IANA name);
    ``"—"`` for ``None``."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    text = local.strftime("%d %b %Y, %H:%M")
    return f"{text} ({zone})" if with_zone else text


def format_date(value: date | None) -> str:
    """``12 Mar 2027``: a calendar date; ``"—"`` for ``None``."""
    return value.strftime("%d %b %Y") if value else "—"
