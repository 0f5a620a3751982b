"""Case-insensitive "contains" filters for the lists people search (states, accounts)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_


def contains_any(text: str, *columns) -> ColumnElement[bool]:
    """A WHERE clause: one of ``columns`` contains ``text``, ignoring case (ASCII case on
    SQLite); ``%``, ``_`` and ``\\`` typed by the person match themselves."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
