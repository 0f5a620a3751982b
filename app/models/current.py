"""The current rows of histories, kept in the transaction that writes them (issue 20): each
recommendation's latest progress update and latest assessment (status value and instant, on
`Recommendation`) and each review's current publication consent (`Review.publication_level`).

The histories (`ProgressUpdate`, `Assessment`, `PublicationConsent`) stay the record; these
columns are copies that let the dashboard, the exports and the public pages read one row per
recommendation or review instead of searching every cycle's history. "Latest" is the rule of
`app.services.latest`: the newest ``created_at`` (UTC), ties broken by the higher id.

Every history row added through a session (the services, the demo, tests) is folded in by an
``after_flush`` listener on all sessions: one UPDATE per new row that takes effect only when no
newer row of that history exists, so rows may arrive in any order. Rows inserted in bulk with
Core ``insert()`` (the benchmark data, a restore) bypass the session: their code calls
`refresh`, which recomputes the columns from the histories (as migration 0009's backfill does).
No history row is deleted anywhere in Pillars; a deletion would need a `refresh`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, and_, cast, event, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.models.publication import PublicationConsent
from app.models.recommendation import Assessment, ProgressUpdate, Recommendation
from app.models.review import Review

#: history model → (owner model, owner key column of the history, {owner column: history column})
TRACKED = {
    ProgressUpdate: (
        Recommendation,
        "recommendation_id",
        {"latest_progress_status": "status", "latest_progress_at": "created_at"},
    ),
    Assessment: (
        Recommendation,
        "recommendation_id",
        {"latest_assessment_status": "status", "latest_assessment_at": "created_at"},
    ),
    PublicationConsent: (Review, "review_id", {"publication_level": "level"}),
}

RECOMMENDATION_COPIES = [
    "latest_progress_status",
    "latest_progress_at",
    "latest_assessment_status",
    "latest_assessment_at",
]


def _value(value):
    return getattr(value, "value", value)  # an enum member's stored value


def _fold(session: Session, row) -> None:
    """Make ``row`` (a new history row, flushed) its owner's current one unless a newer row of
    the same history exists; expire the owner's copied attributes if it is in the session."""
    model = type(row)
    owner, key, copies = TRACKED[model]
    owner_id = getattr(row, key)
    newer = aliased(model)
    has_newer = exists().where(
        getattr(newer, key) == owner_id,
        or_(
            newer.created_at > row.created_at,
            and_(newer.created_at == row.created_at, newer.id > row.id),
        ),
    )
    session.connection().execute(
        update(owner.__table__)
        .where(owner.__table__.c.id == owner_id, ~has_newer)
        .values({column: _value(getattr(row, source)) for column, source in copies.items()})
    )
    loaded = session.identity_map.get(session.identity_key(owner, owner_id))
    if loaded is not None:
        session.expire(loaded, list(copies))


@event.listens_for(Session, "after_flush")
def _keep_current(session: Session, _context) -> None:
    new = sorted((row for row in session.new if type(row) in TRACKED), key=lambda row: row.id or 0)
    for row in new:
        _fold(session, row)


def _newest(model, column, key):
    """Correlated scalar subquery: ``column`` of the newest ``model`` row for the outer row."""
    return (
        select(column)
        .where(key)
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def refresh(
    session: Session,
    recommendation_ids: Iterable[int] | None = None,
    review_ids: Iterable[int] | None = None,
) -> None:
    """Recompute the current rows from the histories, with one UPDATE per table: of the
    recommendations ``recommendation_ids`` and the reviews ``review_ids``, or of all of them when
    both are None (after bulk inserts). Flushes pending changes first; commits nothing."""
    session.flush()
    everything = recommendation_ids is None and review_ids is None
    if everything or recommendation_ids is not None:
        progress_of = ProgressUpdate.recommendation_id == Recommendation.id
        assessment_of = Assessment.recommendation_id == Recommendation.id
        statement = update(Recommendation.__table__).values(
            latest_progress_status=_newest(
                ProgressUpdate, cast(ProgressUpdate.status, String), progress_of
            ),
            latest_progress_at=_newest(ProgressUpdate, ProgressUpdate.created_at, progress_of),
            latest_assessment_status=_newest(
                Assessment, cast(Assessment.status, String), assessment_of
            ),
            latest_assessment_at=_newest(Assessment, Assessment.created_at, assessment_of),
        )
        if recommendation_ids is not None:
            statement = statement.where(Recommendation.id.in_(list(recommendation_ids)))
        session.connection().execute(statement)
    if everything or review_ids is not None:
        consent_of = PublicationConsent.review_id == Review.id
        level = _newest(PublicationConsent, cast(PublicationConsent.level, String), consent_of)
        statement = update(Review.__table__).values(publication_level=func.coalesce(level, "none"))
        if review_ids is not None:
            statement = statement.where(Review.id.in_(list(review_ids)))
        session.connection().execute(statement)
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Recommendation):
            session.expire(loaded, RECOMMENDATION_COPIES)
        elif isinstance(loaded, Review):
            session.expire(loaded, ["publication_level"])
