"""The newest row per recommendation of a dated history (progress updates, assessments).

Exports, the cycle dashboard and the public pages all need "the latest assessment (or progress
update) of each recommendation" inside one SQL statement; this module is the one place that says
what "latest" means: the newest ``created_at`` (UTC), ties broken by the higher id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.sql import Subquery


def latest_per_recommendation(
    model: Any, *, among: Select | Sequence[int] | None = None, name: str | None = None
) -> Subquery:
    """Subquery with one row per recommendation: the newest ``model`` row's ``id``,
    ``recommendation_id``, ``status`` and ``created_at`` (UTC).

    ``model``: a mapped class with ``recommendation_id``, ``status``, ``created_at`` and ``id``
    (`ProgressUpdate`, `Assessment`). ``among``: optionally a SELECT (or a list) of
    recommendation ids that limits the rows ranked (e.g. one cycle's), so the window function
    reads no more than needed.
    """
    ranked = select(
        model.id,
        model.recommendation_id,
        model.status,
        model.created_at,
        func.row_number()
        .over(
            partition_by=model.recommendation_id,
            order_by=(model.created_at.desc(), model.id.desc()),
        )
        .label("rank"),
    )
    if among is not None:
        ranked = ranked.where(model.recommendation_id.in_(among))
    ranked = ranked.subquery()
    return (
        select(ranked.c.id, ranked.c.recommendation_id, ranked.c.status, ranked.c.created_at)
        .where(ranked.c.rank == 1)
        .subquery(name)
    )
