"""Work that must happen only once the transaction is committed (DESIGN §4: notifications are
queued for after the commit).

`on_commit(callback)` queues a no-argument callable on the current database session. The queue
runs, in order, right after that session's transaction commits, and is dropped if the transaction
rolls back instead: a rolled-back transition never sends anything; releasing a SAVEPOINT
(``begin_nested``) is not the commit. A callback that fails is logged
and does not undo the commit nor stop the callbacks after it (the data is already stored; the
outbox of issue 6 is where delivery is retried).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db

_KEY = "pillars_after_commit"
_LOG = logging.getLogger(__name__)


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current transaction of ``db.session`` commits; never if it
    rolls back."""
    db.session().info.setdefault(_KEY, []).append(callback)


def pending() -> int:
    """How many callbacks wait for the current transaction's commit (for tests and checks)."""
    return len(db.session().info.get(_KEY, []))


@event.listens_for(Session, "after_commit")
def _run_queued(session: Session) -> None:
    if session.in_nested_transaction():
        # SQLAlchemy sends "after_commit" when a SAVEPOINT is released too; the transaction
        # that matters is still open, and its work is not visible to anyone yet
        return
    for callback in session.info.pop(_KEY, []):
        try:
            callback()
        except Exception:  # noqa: BLE001 — committed already: log, keep going
            _LOG.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_soft_rollback")
def _drop_queued(session: Session, previous_transaction: SessionTransaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_KEY, None)
