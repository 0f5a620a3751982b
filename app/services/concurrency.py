"""Optimistic concurrency for edit forms: refuse a save based on a page that is out of date.

A page that edits several rows at once (a self-assessment section, a draft report, an evaluation,
a response) carries a hidden ``base_version``: the `fingerprint` of the stored values it was
rendered from. On save, the route recomputes the fingerprint of what is stored now; if it differs,
someone (another person, or the same person in another tab) saved in between, and the save is
refused with the typed text kept and the new ``base_version`` — so a deliberate second save goes
through (Redash's version check, applied to forms).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db

T = TypeVar("T")


def fingerprint(values: Iterable[Any]) -> str:
    """A short stable hash of ``values`` (any JSON-serialisable data; dates via ``str``)."""
    payload = json.dumps(list(values), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def is_stale(posted: str | None, current: str) -> bool:
    """True when a page rendered from version ``posted`` would overwrite newer data.

    A post without a version (a script, an API client) is not checked.
    """
    return bool(posted) and posted != current


def get_or_create(find: Callable[[], T | None], make: Callable[[], T]) -> T:
    """Return ``find()``, or add and flush ``make()`` when there is none — once, even when two
    requests race: the loser's flush hits the row's unique key, its session is rolled back and the
    winner's row is read again (so a double click yields exactly one row).

    Call it before any other change in the request: the rollback would undo them.
    Raises:
        IntegrityError: the flush failed for another reason than the race.
    """
    found = find()
    if found is not None:
        return found
    row = make()
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        found = find()
        if found is None:
            raise
        return found
    return row


def locked_value(column: Any, ident: int) -> Any:
    """Lock row ``ident`` of ``column``'s table and return that column's committed value (None
    when the row is gone) — e.g. ``locked_value(Review.status, review.id)`` before changing what
    hangs off a review. A second caller waits until the first one's transaction ends, then reads
    what it committed.

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks and ignores FOR UPDATE, and its
    reads outside a write run in autocommit: a no-op write of the row first takes the database's
    write lock (waiting up to ``busy_timeout``) and starts the transaction, so the value read next
    is the latest committed one and no other writer can slip in before this transaction ends.
    """
    model = column.class_
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(model)
            .where(model.id == ident)
            .values(id=model.id)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(select(column).where(model.id == ident).with_for_update())


def repeats_latest(model: Any, parent: Any, ident: int, values: dict[str, Any]) -> bool:
    """Whether the newest row of ``model`` (by ``created_at``, then id) whose ``parent`` column
    equals ``ident`` already has exactly ``values`` (attribute name → value, e.g. author id and
    text): a double click, or the same form posted again after "back".

    Append-only histories (progress updates, assessments, factual comments) do not record such a
    repeat. Lock the parent row first (`locked_value`) so that two identical posts cannot both pass.
    The row is re-read (``populate_existing``), not taken from the session's identity map.
    """
    latest = db.session.scalar(
        select(model)
        .where(parent == ident)
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return latest is not None and all(getattr(latest, k) == v for k, v in values.items())
