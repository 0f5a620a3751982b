"""The whole (status × event × role) matrix of every lifecycle, generated from the definitions.

For each machine, each status and each event of its table, every identity fires the event through
`apply_transition` on data where every guard is satisfied. It must succeed exactly where the
transition table allows the event from that status *and* the role rule (``TransitionSpec.by``,
resolved in ``app/access.py``) admits the identity; anywhere else it must be refused with the
status, the version and the TransitionLog untouched. Events added to ``workflows/`` later are
picked up here without editing this file.
"""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import delete, func, select
from werkzeug.exceptions import Forbidden

from app.models import Assignment, Cycle, Review, TransitionLog
from app.services.transitions import ActedFirst, apply_transition
from tests.factories import prepared_review
from workflows import (
    ASSIGNMENT,
    CYCLE,
    REVIEW,
    AssignmentStatus,
    InvalidTransition,
    ReviewStatus,
    TransitionRefused,
)

#: Which identities each actor rule of the tables admits (the rule itself lives in access.py).
ADMITTED = {
    "secretariat": {"secretariat"},
    "focal_point": {"focal_point"},
    "lead_reviewer": {"lead_reviewer"},
    "assigned_reviewer": {"member_reviewer"},
    "secretariat_or_lead": {"secretariat", "lead_reviewer"},
}
IDENTITIES = [
    "secretariat",
    "focal_point",
    "other_focal_point",
    "lead_reviewer",
    "member_reviewer",
    "unassigned_reviewer",
    "anonymous",
]
REFUSALS = (Forbidden, InvalidTransition, TransitionRefused, ActedFirst)


def test_every_actor_rule_of_the_tables_is_covered_here():
    rules = {spec.by for machine in (REVIEW, ASSIGNMENT, CYCLE) for spec in machine.specs}
    assert rules <= set(ADMITTED)


def _actor(prepared, identity):
    return AnonymousUserMixin() if identity == "anonymous" else prepared.identities[identity]


def _logs(db, lifecycle: str, subject_id: int) -> int:
    return db.session.scalar(
        select(func.count(TransitionLog.id)).where(
            TransitionLog.subject_type == lifecycle, TransitionLog.subject_id == subject_id
        )
    )


def _walk(db, machine, subject_of, status, prepared):
    """Fire every event as every identity from ``status``; return the (event, identity) pairs
    that succeeded. ``subject_of()`` re-reads the subject, reset to ``status`` before each try."""
    allowed = set()
    for spec in machine.specs:
        for identity in IDENTITIES:
            subject = subject_of()
            subject.status = machine.statuses(status)
            db.session.commit()
            version = subject.version_id
            before_logs = _logs(db, machine.name, subject.id)
            try:
                log = apply_transition(
                    _actor(prepared, identity),
                    subject,
                    spec.event,
                    reason="Reason for the record.",
                    # guard facts a form or the opening of a next cycle would give
                    facts={"no_conflict": True, "next_cycle": "Cycle two"},
                )
            except REFUSALS:
                db.session.expire_all()
                subject = subject_of()
                assert str(subject.status) == status, (spec.event, identity)
                assert subject.version_id == version, (spec.event, identity)
                assert _logs(db, machine.name, subject.id) == before_logs, (spec.event, identity)
                continue
            db.session.expire_all()
            subject = subject_of()
            assert str(subject.status) == (spec.dest or status)
            assert (log.event, log.from_state, log.to_state) == (
                spec.event,
                status,
                spec.dest or status,
            )
            assert _logs(db, machine.name, subject.id) == before_logs + 1
            allowed.add((spec.event, identity))
    return allowed


def _expected(machine, status):
    return {
        (spec.event, identity)
        for spec in machine.specs
        if status in spec.sources
        for identity in ADMITTED[spec.by]
    }


@pytest.mark.parametrize("status", [s.value for s in ReviewStatus])
def test_review_matrix(db, make, status):
    prepared = prepared_review(make)
    review_id = prepared.review.id
    if status == "factual_check":  # comments are sent once per draft: not sent yet here
        db.session.execute(
            delete(TransitionLog).where(TransitionLog.event == "submit_factual_comments")
        )
        db.session.commit()
    allowed = _walk(db, REVIEW, lambda: db.session.get(Review, review_id), status, prepared)
    assert allowed == _expected(REVIEW, status)


@pytest.mark.parametrize("status", [s.value for s in AssignmentStatus])
def test_assignment_matrix(db, make, status):
    """The member reviewer's assignment, on a review in evaluation (so that the review-context
    guards of every assignment event hold)."""
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.EVALUATION
    db.session.commit()
    member = prepared.identities["member_reviewer"]
    assignment_id = db.session.scalar(
        select(Assignment.id).where(
            Assignment.review_id == prepared.review.id, Assignment.reviewer_id == member.id
        )
    )
    allowed = _walk(
        db, ASSIGNMENT, lambda: db.session.get(Assignment, assignment_id), status, prepared
    )
    assert allowed == _expected(ASSIGNMENT, status)


@pytest.mark.parametrize("status", ["planning", "open", "closed"])
def test_cycle_matrix(db, make, status):
    """A cycle whose one review is closed: both cycle guards hold."""
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.CLOSED
    db.session.commit()
    cycle_id = prepared.review.cycle_id
    allowed = _walk(db, CYCLE, lambda: db.session.get(Cycle, cycle_id), status, prepared)
    assert allowed == _expected(CYCLE, status)
