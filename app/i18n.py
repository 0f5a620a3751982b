"""The six UN languages: which one a person sees, and names and text that come as data.

Owns the list of interface languages (DESIGN §11: Arabic, Chinese, English, French, Russian,
Spanish), the current locale as the rest of the code asks for it (a request's, or the one forced
for an e-mail's recipient), text direction, state names in the reader's language (from the
ISO 3166 translations that ship with pycountry, the country-data library already used for codes),
and per-field translations of data such as the framework questionnaire (stored as
``{locale: {field: text}}``, falling back to English per field, never within a sentence).

Lives below ``app.models``, ``app.services`` and ``app.web``: it imports only Flask-Babel,
Babel and pycountry.
"""

from __future__ import annotations

import csv
import gettext as _gettext
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pycountry

#: Interface languages: code → the language's own name (as shown in the switcher).
LANGUAGES: dict[str, str] = {
    "ar": "العربية",
    "zh": "中文",
    "en": "English",
    "fr": "Français",
    "ru": "Русский",
    "es": "Español",
}
#: Languages written right to left.
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"
#: pycountry's catalog directory name for each interface language (Chinese: Simplified).
_PYCOUNTRY_LOCALE = {"ar": "ar", "zh": "zh_CN", "fr": "fr", "ru": "ru", "es": "es"}
#: Babel locale used to format dates and numbers; English keeps the day-month-year order the
#: UN's own documents use ("12 Mar 2027").
_FORMAT_LOCALE = {"en": "en_GB", "zh": "zh_Hans_CN"}

T = TypeVar("T")


def current_language() -> str:
    """The language code (one of `LANGUAGES`) of the current request or of the locale forced for
    an e-mail's recipient (``flask_babel.force_locale``); English outside any context."""
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except (RuntimeError, KeyError):  # no app context, or Babel not initialised
        locale = None
    if locale is None:
        return DEFAULT_LANGUAGE
    code = locale.language
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def normalise_language(code: str | None) -> str | None:
    """``"fr-CA"`` → ``"fr"``, ``"zh-Hans"`` → ``"zh"``; None when not an interface language."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def text_direction(language: str | None = None) -> str:
    """``"rtl"`` for Arabic, else ``"ltr"``."""
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def format_locale(language: str | None = None) -> str:
    """The Babel locale name used to format dates and numbers for ``language``."""
    language = language or current_language()
    return _FORMAT_LOCALE.get(language, language)


@cache
def _country_translations(language: str) -> _gettext.NullTranslations:
    directory = _PYCOUNTRY_LOCALE.get(language)
    if directory is None:
        return _gettext.NullTranslations()
    return _gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[directory], fallback=True
    )


@cache
def _iso_name(code: str) -> str | None:
    country = pycountry.countries.get(alpha_3=code)
    return country.name if country is not None else None


def state_name(code: str, english: str, language: str | None = None) -> str:
    """A UN member state's name in ``language`` (default: the current one).

    ``code`` is ISO 3166-1 alpha-3, ``english`` the name as stored (UN usage). The translation
    comes from pycountry's ISO 3166-1 catalogs; when a language has none for that state, or for
    English, the stored name is returned unchanged.
    """
    language = language or current_language()
    if language == DEFAULT_LANGUAGE:
        return english
    iso = _iso_name(code)
    if iso is None:
        return english
    translated = _country_translations(language).gettext(iso)
    return english if translated == iso else translated


@cache
def _code_by_english_name() -> dict[str, str]:
    """Stored (UN) English name → alpha-3 code, from the regional-groups data file the states are
    loaded from (``app/data/reference/un-regional-groups``)."""
    path = (
        Path(__file__).parent
        / "data"
        / "reference"
        / "un-regional-groups"
        / "un-regional-groups.csv"
    )
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["Name"].strip(): row["Code"].strip() for row in csv.DictReader(handle)}


def state_name_from_english(english: str, language: str | None = None) -> str:
    """The stored English name of a state → its name in ``language`` (for rows and e-mail
    contexts that carry only the name); unknown names are returned unchanged."""
    code = _code_by_english_name().get(english)
    return state_name(code, english, language) if code else english


def translated(obj: Any, field: str, language: str | None = None) -> str:
    """``obj.<field>`` in ``language`` from its ``translations`` mapping
    (``{locale: {field: text}}``), else the English column value."""
    language = language or current_language()
    english = getattr(obj, f"{field}_en")
    if language == DEFAULT_LANGUAGE:
        return english
    text = ((getattr(obj, "translations", None) or {}).get(language) or {}).get(field)
    return text or english


def sort_key(language: str | None = None) -> Callable[[str], tuple]:
    """A key for sorting names alphabetically for readers of ``language``: accents and case
    folded (so É sorts with E), then the exact text as tie-break. Arabic, Cyrillic and Han
    characters sort by their Unicode order, which follows each script's alphabet (Chinese:
    radical-stroke order)."""

    def key(text: str) -> tuple:
        folded = "".join(
            ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
        ).casefold()
        return (folded, text)

    return key


def sorted_by_name(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    """``items`` sorted by ``name(item)`` for the current reader (see `sort_key`)."""
    key = sort_key()
    return sorted(items, key=lambda item: key(name(item)))
