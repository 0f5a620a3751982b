"""Formatting of dates, instants, numbers and lists for people, shared by services and pages.

Lives below both ``app.services`` and ``app.web`` so that a service (an e-mail's deadline) and a
page format a value the same way without a service importing the web layer (STYLE.md, "Growing
the house"). Everything is formatted with Babel (CLDR data) for the reader's language
(`app.i18n.current_language`: the request's, or the e-mail recipient's); instants are stored in
UTC and shown in the cycle's IANA time zone, the zone named (DESIGN §8, §11).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time
from babel.lists import format_list as _babel_list
from babel.numbers import format_decimal, format_percent

from app.i18n import format_locale

#: CLDR's medium date is numeric in Arabic (12/03/2027); the long form names the month.
_DATE_FORMAT = {"ar": "long"}


def format_instant(
    value: datetime | None, zone: str = "UTC", with_zone: bool = True, language: str | None = None
) -> str:
    """An aware instant shown in ``zone`` (IANA name) for the reader's language, 24-hour clock:
    ``12 Mar 2027, 23:59 (Africa/Nairobi)`` in English, ``12 mars 2027, 23:59 (Africa/Nairobi)``
    in French, ``2027年3月12日 23:59 (Africa/Nairobi)`` in Chinese; ``"—"`` for ``None``.
    The zone's IANA name is kept as is in every language (it is an identifier)."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    text = _joined(local, format_locale(language))
    return f"{text} ({zone})" if with_zone else text


def format_date(value: date | None, language: str | None = None) -> str:
    """A calendar date, month abbreviated in the reader's language: ``12 Mar 2027``,
    ``12 mars 2027``, ``12 марта 2027 г.``, ``2027年3月12日``; ``"—"`` for ``None``."""
    if value is None:
        return "—"
    locale = format_locale(language)
    return _babel_date(value, format=_DATE_FORMAT.get(locale, "medium"), locale=locale)


def format_time(value: datetime, zone: str = "UTC", language: str | None = None) -> str:
    """The wall-clock time of an aware instant in ``zone``, 24-hour: ``23:59``."""
    return _babel_time(
        value.astimezone(ZoneInfo(zone)), format="HH:mm", locale=format_locale(language)
    )


def format_number(value: float | int | None, language: str | None = None) -> str:
    """A number with the reader's digit grouping and decimal sign (``12 345,5`` in French)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=format_locale(language))


def format_share(value: float | None, language: str | None = None) -> str:
    """A share 0–1 as a whole percentage in the reader's convention (``45 %`` in French)."""
    if value is None:
        return "—"
    return format_percent(value, locale=format_locale(language))


def format_list(items: Iterable[str], language: str | None = None) -> str:
    """``A, B and C`` / ``A, B et C`` / ``A、B和C``: a list joined for the reader's language."""
    return _babel_list([str(item) for item in items], locale=format_locale(language))


def _joined(local: datetime, locale: str) -> str:
    """Date (medium) and 24-hour time joined by the locale's own date-time pattern."""
    parsed = Locale.parse(locale)
    day = _babel_date(local, format=_DATE_FORMAT.get(parsed.language, "medium"), locale=parsed)
    clock = _babel_time(local, format="HH:mm", locale=parsed)
    pattern = parsed.datetime_formats["medium"]
    return pattern.replace("{1}", day).replace("{0}", clock).replace("'", "")


class LocalInstant:
    """An instant to be shown in ``zone``, formatted only when it is printed — in the reader's
    language at that moment (an e-mail queued by one person's request is rendered in each
    recipient's language). ``str()`` and Jinja's autoescape both give `format_instant`'s text."""

    __slots__ = ("value", "zone")

    def __init__(self, value: datetime, zone: str) -> None:
        self.value = value
        self.zone = zone

    def __str__(self) -> str:
        return format_instant(self.value, self.zone)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LocalInstant):
            return (self.value, self.zone) == (other.value, other.zone)
        return str(self) == other

    def __hash__(self) -> int:
        return hash((self.value, self.zone))

    def __repr__(self) -> str:
        return f"LocalInstant({self.value.isoformat()}, {self.zone!r})"
