"""Form helpers shared by every area's forms."""

from __future__ import annotations

from typing import Any


def optional_int(value: Any) -> int | None:
    """Coerce a posted choice: blank (or "None", a select's empty option) → None, else an int.

    Raises:
        ValueError: when the value is not a number; WTForms turns it into a field error.
    """
    if value in (None, "", "None"):
        return None
    return int(value)
