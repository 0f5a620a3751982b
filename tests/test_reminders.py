"""Reminders before deadlines and escalation when overdue (issue 6 part B, DESIGN §8).

The schedule is tested pure (no database) across daylight-saving changes; passes are tested with a
frozen clock (`PILLARS_FROZEN_NOW`) through the service and the CLI.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from app.models import Notification, NotificationStatus, Role, State, TransitionLog, User
from app.services import deadlines, reminders
from app.services.clock import end_of_day
from config import day_count, day_counts
from tests.conftest import IS_PG
from tests.factories import fill_required_answers, prepared_review
from workflows import AssignmentStatus, CycleStatus, ReviewStatus

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


# --- passes with a frozen clock -------------------------------------------------------------------


def Z(*args) -> datetime:  # noqa: N802 — an instant in UTC, as written in the expectations
    return datetime(*args, tzinfo=UTC)


SECOND = timedelta(seconds=1)


def outbox(db, kind: str | None = None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.kind.in_(reminders.KINDS))
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def run(db, frozen_now, instant: datetime) -> reminders.PassResult:
    frozen_now(instant)
    result = reminders.run_pass()
    db.session.commit()
    return result


def days_of(note: Notification) -> int | None:
    """The offset of a reminder (days before the deadline); None for an escalation."""
    return int(note.dedupe_key.rsplit(":", 1)[1]) if note.kind == "reminder" else None


@pytest.fixture
def two_zones(make, db):
    """Kenya's review in a Berlin cycle (self-assessment due 30 March 2027 23:59:59 there, after
    the clocks go forward on 28 March) and Ghana's in a New York cycle (due 20 March 2027
    23:59:59 there, after the change of 14 March); a focal point each and one secretariat."""
    secretariat = make.secretariat()
    berlin = make.cycle("Berlin cycle", time_zone="Europe/Berlin", starts_on=date(2026, 12, 30))
    new_york = make.cycle(
        "New York cycle", time_zone="America/New_York", starts_on=date(2026, 12, 20)
    )
    kenya = make.review("KEN", berlin)
    ghana = make.review("GHA", new_york)
    return {
        "secretariat": secretariat,
        "kenya": kenya,
        "ghana": ghana,
        "kenya_fp": make.focal_point("KEN"),
        "ghana_fp": make.focal_point("GHA"),
    }


#: (instant, review, kind, days): every message of the two reviews, written by hand from the
#: rule "N calendar days before/after, same wall time in the cycle's zone".
EXPECTED = [
    (Z(2027, 3, 7, 4, 59, 59), "ghana", "reminder", 14),  # 6 Mar 23:59:59 EST
    (Z(2027, 3, 14, 4, 59, 59), "ghana", "reminder", 7),  # 13 Mar 23:59:59 EST
    (Z(2027, 3, 16, 22, 59, 59), "kenya", "reminder", 14),  # 16 Mar 23:59:59 CET
    (Z(2027, 3, 20, 3, 59, 59), "ghana", "reminder", 1),  # 19 Mar 23:59:59 EDT
    (Z(2027, 3, 21, 3, 59, 59), "ghana", "reminder", 0),  # 20 Mar 23:59:59 EDT: the deadline
    (Z(2027, 3, 23, 22, 59, 59), "kenya", "reminder", 7),  # 23 Mar 23:59:59 CET
    (Z(2027, 3, 24, 3, 59, 59), "ghana", "overdue", None),  # 23 Mar 23:59:59 EDT
    (Z(2027, 3, 29, 21, 59, 59), "kenya", "reminder", 1),  # 29 Mar 23:59:59 CEST
    (Z(2027, 3, 30, 21, 59, 59), "kenya", "reminder", 0),  # 30 Mar 23:59:59 CEST: the deadline
    (Z(2027, 4, 2, 21, 59, 59), "kenya", "overdue", None),  # 2 Apr 23:59:59 CEST
]


def test_each_offset_fires_once_at_its_wall_time_across_dst_in_two_zones(db, frozen_now, two_zones):
    for instant, review_key, kind, days in EXPECTED:
        assert run(db, frozen_now, instant - SECOND).queued == [], instant
        before = len(outbox(db))
        first = run(db, frozen_now, instant)
        new = outbox(db)[before:]
        assert [(n.review_id, n.kind, days_of(n)) for n in new] == [
            (two_zones[review_key].id, kind, days)
        ], instant
        expected_recipient = (
            two_zones["secretariat"] if kind == "overdue" else two_zones[f"{review_key}_fp"]
        )
        assert new[0].recipient_id == expected_recipient.id
        assert new[0].created_at == instant
        assert len(first.queued) == 1
        assert run(db, frozen_now, instant).queued == []
        assert run(db, frozen_now, instant + timedelta(minutes=5)).queued == []
    # weeks later nothing more: every offset fired once, the escalation once
    assert run(db, frozen_now, Z(2027, 6, 1)).queued == []
    assert len(outbox(db)) == len(EXPECTED)


def test_reminder_shows_the_deadline_in_the_cycles_zone_and_links_to_the_work(
    db, frozen_now, two_zones
):
    run(db, frozen_now, Z(2027, 3, 23, 23))
    note = next(n for n in outbox(db) if n.review_id == two_zones["kenya"].id)
    assert "30 Mar 2027, 23:59 (Europe/Berlin)" in note.body_text
    assert "in 7 days" in note.body_text
    assert note.subject == "Reminder: self-assessment due in 7 days — review of Kenya, Berlin cycle"
    assert f"/reviews/{two_zones['kenya'].id}/self-assessment" in note.body_text
    assert note.status == NotificationStatus.SENT  # delivered after the commit (log backend)


def test_a_late_pass_sends_only_the_latest_due_reminder_once(db, frozen_now, two_zones):
    # cron was down from before the 14-day reminder until after the 1-day one of Kenya
    result = run(db, frozen_now, Z(2027, 3, 30, 8))
    kenya = [n for n in outbox(db) if n.review_id == two_zones["kenya"].id]
    assert [days_of(n) for n in kenya] == [1]
    ghana = [n for n in outbox(db) if n.review_id == two_zones["ghana"].id]
    # Ghana's deadline passed ten days ago: the at-deadline reminder once, and the escalation
    assert sorted((n.kind, days_of(n)) for n in ghana) == [("overdue", None), ("reminder", 0)]
    assert len(result.queued) == 3
    escalation = next(n for n in ghana if n.kind == "overdue")
    assert escalation.recipient_id == two_zones["secretariat"].id
    assert "20 Mar 2027, 23:59 (America/New_York), 9 days ago" in escalation.body_text
    assert f"{two_zones['ghana_fp'].display_name}: complete and submit" in escalation.body_text
    assert run(db, frozen_now, Z(2027, 3, 30, 9)).queued == []
    # the skipped 14- and 7-day reminders never come afterwards; the at-deadline one does
    run(db, frozen_now, Z(2027, 3, 31))
    kenya = [n for n in outbox(db) if n.review_id == two_zones["kenya"].id]
    assert [days_of(n) for n in kenya] == [1, 0]


def test_moving_a_deadline_rearms_its_reminders(db, frozen_now, two_zones):
    kenya = two_zones["kenya"]
    run(db, frozen_now, Z(2027, 3, 24))  # the 7-day reminder of 30 March
    assert [days_of(n) for n in outbox(db) if n.review_id == kenya.id] == [7]
    # the secretariat gives three more weeks: 20 April
    frozen_now(Z(2027, 3, 24, 1))
    deadlines.change_deadline(
        two_zones["secretariat"], kenya, "self_assessment", date(2027, 4, 20), None, "More time."
    )
    db.session.commit()
    assert run(db, frozen_now, Z(2027, 3, 24, 2)).queued == []  # 27 days before: nothing due
    run(db, frozen_now, Z(2027, 4, 6, 22))  # 14 days before 20 April (CEST): 6 Apr 21:59:59Z
    assert [days_of(n) for n in outbox(db) if n.review_id == kenya.id] == [7, 14]
    # then back to 9 April, two days away: the new date's 7-day reminder fires once, not 14
    frozen_now(Z(2027, 4, 7))
    deadlines.change_deadline(
        two_zones["secretariat"], kenya, "self_assessment", date(2027, 4, 9), None, "Sooner."
    )
    db.session.commit()
    result = run(db, frozen_now, Z(2027, 4, 7, 0, 5))
    assert [(p.kind, p.days) for p in result.queued] == [("reminder", 7)]
    assert [days_of(n) for n in outbox(db) if n.review_id == kenya.id] == [7, 14, 7]
    assert run(db, frozen_now, Z(2027, 4, 7, 0, 10)).queued == []


def test_no_reminder_once_the_self_assessment_is_submitted_or_the_review_withdrawn(
    db, frozen_now, two_zones, app
):
    from app.services.transitions import apply_transition

    kenya, ghana = two_zones["kenya"], two_zones["ghana"]
    fill_required_answers(db, kenya, two_zones["kenya_fp"])
    frozen_now(Z(2027, 3, 1))
    with app.test_request_context():
        apply_transition(two_zones["kenya_fp"], kenya, "submit_self_assessment")
        apply_transition(two_zones["secretariat"], ghana, "withdraw", reason="Left the regime.")
    assert run(db, frozen_now, Z(2027, 3, 17)).queued == []
    assert run(db, frozen_now, Z(2027, 5, 1)).queued == []
    assert outbox(db) == []


def test_inactive_accounts_and_planning_cycles_get_nothing(db, frozen_now, two_zones, make):
    two_zones["kenya_fp"].active = False
    two_zones["ghana"].cycle.status = CycleStatus.PLANNING
    db.session.commit()
    result = run(db, frozen_now, Z(2027, 3, 17))
    assert result.queued == []
    # Kenya's deadline passes with nobody to remind: the secretariat is still told
    result = run(db, frozen_now, Z(2027, 4, 3))
    assert [(p.kind, p.recipient.id) for p in result.queued] == [
        ("overdue", two_zones["secretariat"].id)
    ]
    note = outbox(db)[0]
    assert "No active account owes this work" in note.body_text


@pytest.fixture
def evaluating(make, db, team):
    """``team`` (Kenya, lead France, member Brazil, both accepted, in evaluation; cycle in UTC,
    evaluation due 30 June 2027 23:59:59 UTC) plus Kenya's focal point and a declined reviewer."""
    team["focal_point"] = make.focal_point("KEN")
    team["declined"] = make.reviewer("JPN")
    team["declined_a"] = make.assignment(
        team["review"], team["declined"], status=AssignmentStatus.DECLINED
    )
    return team


def test_evaluation_reminders_go_per_assignment_and_stop_once_submitted(db, frozen_now, evaluating):
    lead_a, member_a = evaluating["lead_a"], evaluating["member_a"]
    result = run(db, frozen_now, Z(2027, 6, 17))  # 13 days before 30 June: the 14-day one
    assert sorted((p.assignment.id, p.owed.task) for p in result.queued) == sorted(
        [(lead_a.id, "evaluation_and_report"), (member_a.id, "evaluation")]
    )
    notes = outbox(db)
    assert {n.assignment_id for n in notes} == {lead_a.id, member_a.id}
    assert evaluating["declined"].id not in {n.recipient_id for n in notes}
    # a reviewer's reminder never names a co-reviewer nor a focal point
    for note in notes:
        others = {evaluating["lead"], evaluating["member"], evaluating["declined"]} - {
            note.recipient
        }
        for other in (*others, evaluating["focal_point"]):
            assert other.display_name not in note.body_text + note.body_html + note.subject
    member_a.status = AssignmentStatus.SUBMITTED
    db.session.commit()
    result = run(db, frozen_now, Z(2027, 6, 24))  # the 7-day one: only the lead now
    assert [(p.recipient.id, p.owed.task) for p in result.queued] == [
        (evaluating["lead"].id, "evaluation_and_report")
    ]
    lead_a.status = AssignmentStatus.SUBMITTED
    db.session.commit()
    result = run(db, frozen_now, Z(2027, 6, 30, 12))  # the 1-day one: the lead owes the report
    assert [(p.recipient.id, p.owed.task) for p in result.queued] == [
        (evaluating["lead"].id, "draft_report")
    ]
    assert "consolidate and submit the draft report" in outbox(db)[-1].body_text
    assert f"/reviews/{evaluating['review'].id}/report/edit" in outbox(db)[-1].body_text


def test_a_declined_or_withdrawn_assignment_stops_and_the_new_seat_gets_its_own(
    db, frozen_now, evaluating, make
):
    run(db, frozen_now, Z(2027, 6, 17))
    evaluating["member_a"].status = AssignmentStatus.WITHDRAWN
    replacement = make.reviewer("CHL")
    new_a = make.assignment(evaluating["review"], replacement, status=AssignmentStatus.ACCEPTED)
    result = run(db, frozen_now, Z(2027, 6, 18))
    # the newcomer gets the latest due reminder (14 days) for their own assignment, once
    assert [(p.recipient.id, p.assignment.id, p.days) for p in result.queued] == [
        (replacement.id, new_a.id, 14)
    ]
    result = run(db, frozen_now, Z(2027, 6, 24))
    assert evaluating["member"].id not in {p.recipient.id for p in result.queued}
    assert {p.recipient.id for p in result.queued} == {evaluating["lead"].id, replacement.id}


def test_an_undelivered_reminder_is_cancelled_once_the_work_is_done(db, frozen_now, evaluating):
    run(db, frozen_now, Z(2027, 6, 17))
    member_note = next(n for n in outbox(db) if n.assignment_id == evaluating["member_a"].id)
    lead_note = next(n for n in outbox(db) if n.assignment_id == evaluating["lead_a"].id)
    for note in (member_note, lead_note):  # the mail server refused them; a retry is due
        note.status = NotificationStatus.FAILED
    evaluating["member_a"].status = AssignmentStatus.SUBMITTED
    db.session.commit()
    result = run(db, frozen_now, Z(2027, 6, 17, 1))
    assert result.cancelled == 1
    db.session.expire_all()
    assert member_note.status == NotificationStatus.ABANDONED
    assert member_note.last_error == reminders.CANCELLED_NOTE
    assert lead_note.status == NotificationStatus.FAILED  # the lead still owes work


def test_factual_check_reminders_stop_once_the_state_commented(db, frozen_now, make, app):
    from app.services.transitions import apply_transition

    prepared = prepared_review(make)  # the state commented on the first draft already
    review = prepared.review
    focal_point = prepared.identities["focal_point"]
    review.status = ReviewStatus.FACTUAL_CHECK
    db.session.commit()
    assert run(db, frozen_now, Z(2027, 7, 28)).queued == []
    # the draft came back and a new one was submitted: the state owes comments on it
    db.session.add(
        TransitionLog(
            subject_type="review",
            subject_id=review.id,
            event="submit_draft_report",
            from_state="evaluation",
            to_state="factual_check",
            actor_id=prepared.identities["lead_reviewer"].id,
            created_at=Z(2027, 7, 20),
        )
    )
    db.session.commit()
    # factual check due 1 January + 90 + 90 + 30 days: 30 July 23:59:59 UTC; 2 days before
    result = run(db, frozen_now, Z(2027, 7, 28, 1))
    assert [(p.recipient.id, p.days) for p in result.queued] == [(focal_point.id, 7)]
    assert prepared.identities["lead_reviewer"].display_name not in outbox(db)[0].body_text
    frozen_now(Z(2027, 7, 29))
    with app.test_request_context():
        apply_transition(focal_point, review, "submit_factual_comments")
    assert run(db, frozen_now, Z(2027, 7, 30, 1)).queued == []
    assert run(db, frozen_now, Z(2027, 8, 10)).queued == []  # no escalation either


# --- the command ----------------------------------------------------------------------------------


def test_reminders_run_prints_what_it_queued_and_a_second_run_queues_nothing(
    db, frozen_now, two_zones, runner
):
    frozen_now(Z(2027, 3, 24, 12))  # Kenya: 7 days before; Ghana: 3 days overdue
    dry = runner.invoke(args=["reminders", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would queue reminder (7 d before): Kenya" in dry.output
    assert dry.output.strip().splitlines()[-1] == "reminders queued: 0"
    assert outbox(db) == []

    first = runner.invoke(args=["reminders", "run"])
    assert first.exit_code == 0, first.output
    lines = first.output.strip().splitlines()
    assert lines[-1] == "reminders queued: 3"  # reminders and escalations together
    assert "queued reminder (7 d before): Kenya — Berlin cycle, self_assessment" in first.output
    assert "queued reminder (at the deadline): Ghana — New York cycle" in first.output
    assert "queued overdue (3 d overdue): Ghana" in first.output
    assert "2 reminders and 1 escalation queued" in first.output
    assert len(outbox(db)) == 3

    second = runner.invoke(args=["reminders", "run"])
    assert second.exit_code == 0, second.output
    assert second.output.strip().splitlines()[-1] == "reminders queued: 0"
    assert "3 due earlier and already queued" in second.output
    assert len(outbox(db)) == 3


# --- bounded queries ------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def __call__(self, _conn, _cursor, statement, *args):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)

    @property
    def selects(self) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("SELECT"))


def _cycle_with_reviews(db, make, name: str, codes: list[str]):
    from app.services import cycles as cycle_service

    cycle = make.cycle(name, time_zone="Pacific/Auckland")
    states = {s.code: s for s in db.session.scalars(select(State).where(State.code.in_(codes)))}
    for i, code in enumerate(codes):
        review = cycle_service.add_review(cycle, states[code])
        review.status = (ReviewStatus.SELF_ASSESSMENT, ReviewStatus.RESPONSE)[i % 2]
        db.session.add(
            User(
                email=f"fp.{name.split()[0].lower()}.{code.lower()}@test.example",
                display_name=f"Focal point {code}",
                password_hash="x",
                role=Role.FOCAL_POINT,
                state_id=states[code].id,
            )
        )
    db.session.commit()
    return cycle


def _pass_statements(db, frozen_now, instant) -> tuple[QueryCounter, reminders.PassResult]:
    """The statements of one pass up to its flush (delivery after the commit is the outbox's)."""
    frozen_now(instant)
    with QueryCounter(db.engine) as counter:
        result = reminders.run_pass()
    db.session.commit()
    return counter, result


def test_a_pass_reads_in_a_fixed_number_of_queries_whatever_the_number_of_reviews(
    db, make, frozen_now
):
    all_codes = sorted(db.session.scalars(select(State.code)))
    assert len(all_codes) == 193
    make.secretariat()
    small = _cycle_with_reviews(db, make, "Small cycle", all_codes[:10])
    # self-assessment due 1 April 2027 23:59:59 in Auckland (NZDT until 4 April): 10:59:59 UTC
    small_first, result = _pass_statements(db, frozen_now, Z(2027, 3, 26))
    assert len(result.queued) == 5  # the five reviews in self-assessment: 7 days before
    small_again, again = _pass_statements(db, frozen_now, Z(2027, 3, 26, 1))
    assert again.queued == []

    small.status = CycleStatus.CLOSED
    db.session.commit()
    _cycle_with_reviews(db, make, "Big cycle", all_codes)
    big_first, result = _pass_statements(db, frozen_now, Z(2027, 3, 26, 2))
    # 97 reviews in self-assessment; the ten states of the small cycle have two focal points
    assert len(result.queued) == 97 + 5
    big_again, again = _pass_statements(db, frozen_now, Z(2027, 3, 26, 3))
    assert again.queued == []
    print(
        f"reminder pass SELECTs: {small_again.selects} at 10 reviews, {big_again.selects} at 193;"
        f" first pass {small_first.selects} / {big_first.selects} with 5 / 102 messages"
    )
    assert small_again.selects == big_again.selects <= 7
    # queueing reads nothing per review: one duplicate check of the outbox per message at most
    assert big_first.selects - big_again.selects <= 102
    assert small_first.selects - small_again.selects <= 5


# --- two passes at once ---------------------------------------------------------------------------


@pytest.mark.skipif(not IS_PG, reason="SQLite serialises writers: no concurrent passes to race")
def test_two_passes_at_once_queue_each_message_once(app, db, make, frozen_now):
    codes = ["KEN", "GHA", "BRA", "FRA", "JPN", "CHL", "NOR", "POL"]
    make.secretariat()
    _cycle_with_reviews(db, make, "Race cycle", codes)
    frozen_now(Z(2027, 3, 26))
    db.session.remove()
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def one_pass():
        try:
            with app.app_context():
                barrier.wait()
                result = reminders.run_pass()
                db.session.commit()
                results.append(len(result.queued))
        except BaseException as error:  # noqa: BLE001 — reported below
            errors.append(error)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == 4  # the four reviews in self-assessment, each once in total
    keys = [n.dedupe_key for n in outbox(db)]
    assert len(keys) == len(set(keys)) == 4


# --- what the secretariat sees --------------------------------------------------------------------


def test_review_page_shows_the_secretariat_which_reminders_went_out_and_the_next_one(
    db, frozen_now, two_zones, login_as, client
):
    kenya = two_zones["kenya"]
    run(db, frozen_now, Z(2027, 3, 24))  # Kenya: the 7-day reminder of 30 March (Berlin)
    frozen_now(Z(2027, 3, 25))
    page = login_as(two_zones["secretariat"]).get(f"/reviews/{kenya.id}").get_data(as_text=True)
    assert "Reminders sent: 7 days before." in page
    # the 1-day reminder: 29 March 23:59:59 in Berlin, shown in the cycle's zone
    assert "Next reminder: 1 day before, 29 Mar 2027, 23:59." in page
    # after a move, the sent list starts afresh for the new date
    deadlines.change_deadline(
        two_zones["secretariat"], kenya, "self_assessment", date(2027, 5, 31), None, "Later."
    )
    db.session.commit()
    page = client.get(f"/reviews/{kenya.id}").get_data(as_text=True)
    assert "Reminders sent:" not in page
    assert "Next reminder: 14 days before, 17 May 2027, 23:59." in page


@pytest.mark.parametrize("who", ["kenya_fp", "reviewer"])
def test_only_the_secretariat_sees_the_reminders_sent(
    db, frozen_now, two_zones, login_as, make, who
):
    kenya = two_zones["kenya"]
    if who == "reviewer":
        two_zones["reviewer"] = make.reviewer("FRA")
        make.assignment(kenya, two_zones["reviewer"], status=AssignmentStatus.ACCEPTED)
    run(db, frozen_now, Z(2027, 3, 24))
    response = login_as(two_zones[who]).get(f"/reviews/{kenya.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Deadlines" in page
    assert "Reminders sent" not in page and "Next reminder" not in page
