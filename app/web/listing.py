"""Server-side sorting and pagination of the lists that grow (states, accounts, a cycle's reviews).

Query parameters: ``sort`` — a column key of the list, ``-key`` for descending — and ``page``
(1-based). Lists are links people bookmark and share: an unknown sort key falls back to the
list's default and a page out of range to the nearest page, never an error page. Two queries
per list whatever its length: one count, one page of rows (the caller adds eager loads).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select

from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, current_language, sorted_by_name

PER_PAGE = 50


@dataclass
class Listing:
    """One page of a sorted list: ``items``, ``total`` rows, ``page`` (1-based) of ``pages``,
    and ``sort`` as asked (``"name"`` or ``"-name"``)."""

    items: Sequence[Any]
    total: int
    page: int
    per_page: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def url(self, **changes: Any) -> str:
        """This page's URL with ``changes`` to its query parameters (None removes one)."""
        args = request.args.to_dict()
        args.update({key: value for key, value in changes.items() if value is not None})
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def sort_url(self, key: str) -> str:
        """The URL sorting by ``key``: ascending, or descending when already ascending by it."""
        return self.url(sort=f"-{key}" if self.sort == key else key, page=None)

    def direction(self, key: str) -> str:
        """``ascending`` / ``descending`` when sorted by ``key``, else ``none`` (aria-sort)."""
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return "none"


def paginate(
    query: Select,
    columns: dict[str, tuple],
    default: str,
    tiebreak: Any,
    per_page: int = PER_PAGE,
    by_reader: dict[str, Callable[[Any], str]] | None = None,
) -> Listing:
    """Sort ``query`` by the ``sort`` parameter and return the requested page of its rows.

    ``columns`` maps each sort key to the SQL expressions it orders by; ``default`` is the key
    used when none (or an unknown one) is asked; ``tiebreak`` (a unique column, usually the id)
    keeps the order stable between pages. Rows are ``query``'s scalars (first entity).
    ``by_reader`` maps sort keys whose order depends on the reader's language (names shown
    translated, e.g. states) to the text shown: outside English, those keys sort every row in
    Python with `app.i18n.sort_key` — only for short lists (the 193 states).
    """
    sort = request.args.get("sort", default)
    key = sort.removeprefix("-")
    if key not in columns:
        sort, key = default, default.removeprefix("-")
    descending = sort.startswith("-")
    order = [c.desc() if descending else c.asc() for c in columns[key]]
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    if by_reader and key in by_reader and current_language() != DEFAULT_LANGUAGE:
        rows = db.session.scalars(query.order_by(tiebreak)).unique().all()
        ordered = sorted_by_name(rows, by_reader[key])
        if descending:
            ordered.reverse()
        items = ordered[(page - 1) * per_page : page * per_page]
        return Listing(items=items, total=total, page=page, per_page=per_page, sort=sort)
    items = (
        db.session.scalars(
            query.order_by(*order, tiebreak).limit(per_page).offset((page - 1) * per_page)
        )
        .unique()
        .all()
    )
    return Listing(items=items, total=total, page=page, per_page=per_page, sort=sort)
