"""Reminders before deadlines and escalation when overdue (issue 6 part B, DESIGN §8).

The schedule is tested pure (no database) across daylight-saving changes; passes are tested with a
frozen clock (`PILLARS_FROZEN_NOW`) through the service and the CLI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.services import reminders
from app.services.clock import end_of_day
from config import day_count, day_counts

OFFSETS = (14, 7, 1, 0)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


# --- the schedule, pure ---------------------------------------------------------------------------


def test_seven_days_before_a_berlin_deadline_keeps_the_wall_time_across_the_spring_change():
    due = end_of_day(date(2027, 3, 30), "Europe/Berlin")  # CEST: 21:59:59 UTC
    seven = reminders.shift(due, -7, "Europe/Berlin")
    assert local(seven, "Europe/Berlin").replace(tzinfo=None) == datetime(2027, 3, 23, 23, 59, 59)
    assert seven == datetime(2027, 3, 23, 22, 59, 59, tzinfo=UTC)  # CET then
    # not 7 × 24 h: the clocks went forward on 28 March
    assert due - seven == timedelta(days=6, hours=23)


def test_new_york_reminders_keep_the_wall_time_across_both_changes():
    zone = "America/New_York"
    spring = end_of_day(date(2027, 3, 20), zone)  # EDT since 14 March
    week_before = reminders.shift(spring, -7, zone)
    assert local(week_before, zone).replace(tzinfo=None) == datetime(2027, 3, 13, 23, 59, 59)
    assert spring - week_before == timedelta(days=6, hours=23)

    autumn = end_of_day(date(2027, 11, 10), zone)  # EST since 7 November
    for days, expected_local in ((7, datetime(2027, 11, 3, 23, 59, 59)), (14, None)):
        at = reminders.shift(autumn, -days, zone)
        assert local(at, zone).time() == local(autumn, zone).time()
        if expected_local:
            assert local(at, zone).replace(tzinfo=None) == expected_local
            assert autumn - at == timedelta(days=7, hours=1)
    escalation = reminders.escalation_time(autumn, zone, 3)
    assert local(escalation, zone).replace(tzinfo=None) == datetime(2027, 11, 13, 23, 59, 59)


def test_a_wall_time_skipped_by_the_clocks_resolves_an_hour_later():
    # 02:30 on 28 March 2027 does not exist in Berlin
    due = datetime(2027, 4, 4, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    at = reminders.shift(due, -7, "Europe/Berlin")
    assert local(at, "Europe/Berlin").replace(tzinfo=None) == datetime(2027, 3, 28, 3, 30)


def test_same_deadline_in_two_zones_fires_at_each_zones_own_wall_time():
    nairobi = end_of_day(date(2027, 6, 30), "Africa/Nairobi")
    santiago = end_of_day(date(2027, 6, 30), "America/Santiago")
    assert reminders.shift(nairobi, -1, "Africa/Nairobi") == datetime(
        2027, 6, 29, 20, 59, 59, tzinfo=UTC
    )
    assert reminders.shift(santiago, -1, "America/Santiago") == datetime(
        2027, 6, 30, 3, 59, 59, tzinfo=UTC
    )


def test_only_the_latest_due_reminder_is_sent_and_before_reminders_expire_at_the_deadline():
    zone = "UTC"
    due = end_of_day(date(2027, 5, 31), zone)
    at = {days: reminders.shift(due, -days, zone) for days in OFFSETS}
    second = timedelta(seconds=1)
    assert reminders.due_reminder(due, zone, OFFSETS, at[14] - second) is None
    assert reminders.due_reminder(due, zone, OFFSETS, at[14]) == 14
    assert reminders.due_reminder(due, zone, OFFSETS, at[7] - second) == 14
    # a pass that finds 14, 7 and 1 all due sends the 1-day one only
    assert reminders.due_reminder(due, zone, OFFSETS, at[1] + second) == 1
    assert reminders.due_reminder(due, zone, OFFSETS, due) == 0
    assert reminders.due_reminder(due, zone, OFFSETS, due + timedelta(days=40)) == 0
    # without an at-deadline reminder, nothing is due once the deadline passed
    assert reminders.due_reminder(due, zone, (14, 7), due + second) is None


def test_next_reminder_and_escalation_time():
    zone = "Asia/Tokyo"
    due = end_of_day(date(2027, 8, 15), zone)
    now = reminders.shift(due, -10, zone)
    assert reminders.next_reminder(due, zone, OFFSETS, now) == (7, reminders.shift(due, -7, zone))
    assert reminders.next_reminder(due, zone, OFFSETS, due) is None
    assert not reminders.escalation_due(due, zone, 3, reminders.shift(due, 3, zone) - timedelta(1))
    assert reminders.escalation_due(due, zone, 3, reminders.shift(due, 3, zone))


def test_offsets_setting_is_parsed_largest_first_and_refuses_nonsense():
    assert day_counts("1, 14,7,0,7", name="X") == (14, 7, 1, 0)
    assert day_count("3", name="E") == 3
    for bad in ("", "7,-1", "seven", "400"):
        with pytest.raises(ValueError, match="X"):
            day_counts(bad, name="X")
    with pytest.raises(ValueError, match="E"):
        day_count("3,5", name="E")
