"""A person's own preferences: the interface and e-mail language (DESIGN §11).

Nothing here is a workflow step; the caller's request commits.
"""

from __future__ import annotations

from typing import Any

from app.i18n import LANGUAGES


def choose_language(user: Any, language: str) -> None:
    """Store ``language`` (a code of `app.i18n.LANGUAGES`) as the signed-in ``user``'s interface
    and e-mail language; an anonymous visitor's choice is kept in the session by the caller.

    Raises:
        ValueError: when ``language`` is not an interface language.
    """
    if language not in LANGUAGES:
        raise ValueError(f"not an interface language: {language!r}")
    if getattr(user, "is_authenticated", False):
        user.locale = language
