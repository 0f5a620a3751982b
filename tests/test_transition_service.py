"""The transition service: all or nothing, after-commit work, two people acting at once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import Report, Review, TransitionLog, User
from app.services import after_commit, transitions
from app.services.transitions import ActedFirst, apply_transition
from tests.factories import prepared_review
from workflows import InvalidTransition, ReviewStatus, TransitionRefused


def _review_logs(db, review_id: int) -> int:
    return db.session.scalar(
        select(func.count(TransitionLog.id)).where(
            TransitionLog.subject_type == "review", TransitionLog.subject_id == review_id
        )
    )


def _in(db, prepared, status):
    prepared.review.status = status
    db.session.commit()
    return prepared.review


def test_a_failure_after_the_status_changed_leaves_nothing(db, make, monkeypatch):
    """adopt_report: status set, then the side effect stamps the report and fails — neither the
    status, the stamp, the version nor a log row may remain, and no after-commit work runs."""
    prepared = prepared_review(make)
    review = _in(db, prepared, ReviewStatus.FACTUAL_CHECK)
    version, logs = review.version_id, _review_logs(db, review.id)

    def stamp_then_fail(subject, actor, reason, now):
        transitions._report_adopted(subject, actor, reason, now)
        _db.session.flush()
        raise RuntimeError("mail server down")

    monkeypatch.setitem(transitions.SIDE_EFFECTS, ("review", "adopt_report"), stamp_then_fail)
    ran = []
    with pytest.raises(RuntimeError):
        apply_transition(
            prepared.identities["secretariat"],
            review,
            "adopt_report",
            after_commit=[lambda log: ran.append(log)],
        )
    db.session.expire_all()
    again = db.session.get(Review, review.id)
    assert again.status == ReviewStatus.FACTUAL_CHECK
    assert again.version_id == version
    assert _review_logs(db, review.id) == logs
    assert db.session.scalar(select(Report.adopted_at).where(Report.review_id == review.id)) is None
    assert ran == []
    assert after_commit.pending() == 0


def test_after_commit_work_runs_once_after_the_commit(app, db, make):
    prepared = prepared_review(make)
    review = _in(db, prepared, ReviewStatus.SCREENING)
    seen = []

    def check(log):
        # read through another connection: the change must already be committed
        with _db.engine.connect() as other:
            stored = other.scalar(select(Review.status).where(Review.id == review.id))
        seen.append((log.event, stored))

    apply_transition(
        prepared.identities["secretariat"], review, "accept_self_assessment", after_commit=[check]
    )
    assert seen == [("accept_self_assessment", ReviewStatus.PEER_ASSIGNMENT)]
    assert after_commit.pending() == 0


def test_after_commit_work_waits_for_the_commit_not_a_released_savepoint(db, make):
    # SQLAlchemy reports a released SAVEPOINT as "after_commit" too (the outbox's queue() uses
    # one per message on PostgreSQL): the work must wait for the real commit
    secretariat = make.secretariat()
    ran = []
    after_commit.on_commit(lambda: ran.append("after the commit"))
    with db.session.begin_nested():
        secretariat.display_name = "Renamed in a savepoint"
    assert ran == []
    assert after_commit.pending() == 1
    db.session.commit()
    assert ran == ["after the commit"]


@pytest.mark.parametrize(
    "event, identity, error",
    [
        ("return_self_assessment", "secretariat", TransitionRefused),  # no reason
        ("accept_self_assessment", "focal_point", Exception),  # wrong role (403)
        ("adopt_report", "secretariat", InvalidTransition),  # not from screening
    ],
)
def test_after_commit_work_never_runs_when_refused(db, make, event, identity, error):
    prepared = prepared_review(make)
    review = _in(db, prepared, ReviewStatus.SCREENING)
    ran = []
    after_commit.on_commit(lambda: ran.append("queued before"))
    with pytest.raises(error):
        apply_transition(
            prepared.identities[identity],
            review,
            event,
            after_commit=[lambda log: ran.append(log)],
        )
    db.session.commit()
    assert ran == []
    assert after_commit.pending() == 0


def test_a_failing_after_commit_callback_does_not_undo_the_transition(db, make, caplog):
    prepared = prepared_review(make)
    review = _in(db, prepared, ReviewStatus.SCREENING)
    ran = []

    def broken(log):
        raise RuntimeError("smtp down")

    apply_transition(
        prepared.identities["secretariat"],
        review,
        "accept_self_assessment",
        after_commit=[broken, lambda log: ran.append(log.event)],
    )
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == ReviewStatus.PEER_ASSIGNMENT
    assert ran == ["accept_self_assessment"]
    assert "after-commit callback" in caplog.text


def test_two_people_firing_the_same_transition_at_once_one_wins(app, db, make):
    """Two threads, each with its own app context and session, fire accept_self_assessment on the
    same review at the same moment (a barrier). Exactly one succeeds; the other is told someone
    acted first (409); one log row. PostgreSQL: the row lock makes the second wait, then re-read
    a status it did not expect. SQLite: writers are serialised and the version column (or the
    expected status) refuses the second."""
    prepared = prepared_review(make)
    review = _in(db, prepared, ReviewStatus.SCREENING)
    review_id, secretariat_id = review.id, prepared.identities["secretariat"].id
    logs_before = _review_logs(db, review_id)
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def fire():
        with app.app_context():
            actor = _db.session.get(User, secretariat_id)
            subject = _db.session.get(Review, review_id)
            seen = str(subject.status)
            barrier.wait(timeout=10)
            try:
                apply_transition(actor, subject, "accept_self_assessment", expected_status=seen)
                outcome = "done"
            except ActedFirst:
                outcome = "acted first"
            except Exception as error:  # noqa: BLE001 — reported, and fails the test below
                outcome = f"unexpected {type(error).__name__}: {error}"
            finally:
                _db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["acted first", "done"], outcomes
    assert db.session.get(Review, review_id).status == ReviewStatus.PEER_ASSIGNMENT
    assert _review_logs(db, review_id) == logs_before + 1
    assert (
        db.session.scalar(
            select(func.count(TransitionLog.id)).where(
                TransitionLog.event == "accept_self_assessment"
            )
        )
        == 1
    )


def test_two_identical_comments_posted_at_once_are_recorded_once(app, db, make):
    """Two threads post the same factual-accuracy comment at the same moment (a double click
    that reached the server twice). The row lock (`locked_value`; on SQLite the database write
    lock) makes the second wait and then see the first's comment: one row, and the second is told
    it is already recorded."""
    from app.models import FactualComment, Report
    from app.services.report import CommentAlreadyRecorded, add_factual_comment

    prepared = prepared_review(make)
    review = _in(db, prepared, ReviewStatus.FACTUAL_CHECK)
    report_id = db.session.scalar(select(Report.id).where(Report.review_id == review.id))
    author_id = prepared.identities["focal_point"].id
    before = db.session.scalar(select(func.count(FactualComment.id)))
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def post():
        with app.app_context():
            report = _db.session.get(Report, report_id)
            author = _db.session.get(User, author_id)
            barrier.wait(timeout=10)
            try:
                add_factual_comment(
                    report, author, "Paragraph 12: the law was passed.", None, set()
                )
                _db.session.commit()
                outcome = "recorded"
            except CommentAlreadyRecorded:
                outcome = "already recorded"
            except Exception as error:  # noqa: BLE001 — reported, and fails the test below
                outcome = f"unexpected {type(error).__name__}: {error}"
            finally:
                _db.session.rollback()
                _db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already recorded", "recorded"], outcomes
    assert db.session.scalar(select(func.count(FactualComment.id))) == before + 1
