"""Form helpers shared by every area's forms."""

from __future__ import annotations

from typing import Any

#: The largest id or number a form may post: PostgreSQL's INTEGER (a larger one would be a 500).
MAX_INT = 2**31 - 1


def bounded_int(value: Any) -> int:
    """Coerce a posted number within the database's INTEGER range.

    Raises:
        ValueError: not a number, or out of range; WTForms turns it into a field error.
    """
    number = int(value)
    if not -MAX_INT <= number <= MAX_INT:
        raise ValueError("out of range")
    return number


def optional_int(value: Any) -> int | None:
    """Coerce a posted choice: blank (or "None", a select's empty option) → None, else an int.

    Raises:
        ValueError: when the value is not a number or out of range (a field error).
    """
    if value in (None, "", "None"):
        return None
    return bounded_int(value)
