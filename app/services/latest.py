"""The newest row per recommendation of a dated history (progress updates, assessments).

Exports, the cycle dashboard and the public pages all need "the latest assessment (or progress
update) of each recommendation" inside one SQL statement; this module is the one place that says
what "latest" means: the newest ``created_at`` (UTC), ties broken by the higher id.

Written as "no newer row exists" (an anti-join) rather than a ``row_number()`` window: both
PostgreSQL and SQLite turn it into an index lookup per recommendation joined (the index
``(recommendation_id, created_at, id)``, migration 0007), where SQLite materialized the window
over every row and scanned it for each recommendation (600 ms for one cycle of 193 reports,
issue 9's benchmark).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Subquery


def latest_per_recommendation(
    model: Any, *, among: Select | Sequence[int] | None = None, name: str | None = None
) -> Subquery:
    """Subquery with one row per recommendation: the newest ``model`` row's ``id``,
    ``recommendation_id``, ``status`` and ``created_at`` (UTC).

    ``model``: a mapped class with ``recommendation_id``, ``status``, ``created_at`` and ``id``
    (`ProgressUpdate`, `Assessment`). ``among``: optionally a SELECT (or a list) of
    recommendation ids that limits the rows considered (e.g. one cycle's).
    """
    newer = aliased(model)
    has_newer = exists().where(
        newer.recommendation_id == model.recommendation_id,
        or_(
            newer.created_at > model.created_at,
            and_(newer.created_at == model.created_at, newer.id > model.id),
        ),
    )
    query = select(model.id, model.recommendation_id, model.status, model.created_at).where(
        ~has_newer
    )
    if among is not None:
        query = query.where(model.recommendation_id.in_(among))
    return query.subquery(name)
