"""Deadlines are the last second of a day in the cycle's zone (DESIGN §8), even on the days when
daylight saving begins or ends at midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.services.clock import end_of_day
from app.services.cycles import IANA_ZONES, SetupError, check_time_zone


def last_second_by_scanning(day: date, zone: str) -> datetime:
    """The last UTC second whose local date is ``day``, found the slow, obvious way."""
    tz = ZoneInfo(zone)
    t = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=30)
    while t.astimezone(tz).date() > day:
        t -= timedelta(minutes=1)
    while (t + timedelta(seconds=1)).astimezone(tz).date() == day:
        t += timedelta(seconds=1)
    return t


@pytest.mark.parametrize(
    "zone, day",
    [
        ("UTC", date(2027, 1, 1)),
        ("Africa/Nairobi", date(2027, 6, 30)),
        ("Europe/Zurich", date(2027, 3, 28)),  # spring forward at 02:00
        ("Europe/Zurich", date(2027, 10, 31)),  # fall back at 03:00
        ("Africa/Cairo", date(2027, 10, 28)),  # fall back at midnight: 23:xx happens twice
        ("America/Santiago", date(2027, 4, 3)),  # fall back at midnight
        ("America/Santiago", date(2027, 9, 4)),  # spring forward at midnight: 00:00 never exists
        ("Asia/Beirut", date(2027, 3, 27)),
        ("America/Nuuk", date(2027, 3, 27)),  # 23:00-23:59 does not exist that day
        ("Asia/Kathmandu", date(2027, 5, 1)),  # +05:45
        ("Pacific/Chatham", date(2027, 4, 4)),  # +12:45 / +13:45
        ("Pacific/Kiritimati", date(2027, 1, 1)),  # +14:00
    ],
)
def test_end_of_day_is_the_last_second_of_that_local_day(zone, day):
    instant = end_of_day(day, zone)
    assert instant.tzinfo is UTC
    assert instant == last_second_by_scanning(day, zone)
    assert instant.astimezone(ZoneInfo(zone)).date() == day
    assert (instant + timedelta(seconds=1)).astimezone(ZoneInfo(zone)).date() > day


@pytest.mark.parametrize(
    "zone",
    [
        "localtime",
        "Factory",
        "posix/Asia/Kathmandu",
        "right/UTC",
        "Mars/Olympus",
        "../etc/passwd",
        "",
    ],
)
def test_only_iana_zone_names_are_accepted(zone):
    with pytest.raises(SetupError):
        check_time_zone(zone)


def test_common_zones_are_accepted():
    for zone in ("UTC", "Africa/Nairobi", "America/New_York", "Asia/Kathmandu", "Europe/Zurich"):
        assert check_time_zone(zone) == zone
    assert len(IANA_ZONES) > 400
