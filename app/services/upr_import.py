"""Import of prior UPR recommendations from UPR Info database CSV exports, as published (§9).

Source: UPR Info database exports (via rochelleterman/uprs; see
``shared/data/upr-info-recommendations/SOURCE.md``). The format is kept as it is: Mac Roman
encoding, CR line endings (UTF-8 with or without BOM, UTF-16 with BOM, and any line ending are
accepted too), columns ``To, To-Rgrp, To-Org, Text,
From, From-Rgrp, From-Org, Response, Action, Issue, Session``; names may carry HTML entities
(``&#40;Unknown&#41;`` is "(Unknown)").

State names are not ISO-coded and exports spell them in many ways ("Trinidad & Tobago", "DPR
Korea", "Iran (Islamic Republic of)", "The Gambia", former names such as "Zaire" or "Burma"). They
are mapped to ISO 3166-1 alpha-3 codes by `map_state_name` through normalisation (`name_key`)
against pycountry's names, ISO's inverted names in natural order, and ISO 3166-3's former names
(``pycountry.historic_countries``) mapped to their successor; no list of spellings to extend.
pycountry's fuzzy search is deliberately not used: it maps "Republic of Korea" to the Democratic
People's Republic of Korea.

Rows are never dropped silently. A row whose state under review cannot be mapped to one of our
`State` rows (or whose response, action category or session is not a valid value) is *unmapped*:
it is counted, listed with its line number and reason, and not imported (a prior recommendation
must belong to a state). A recommending state that cannot be mapped (e.g. "(Unknown)") is kept as
published with no code, and listed. A row already imported (same SHA-256 of its fields) is counted
as already present, so re-importing a file adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

import pycountry
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from app.extensions import db
from app.models import Cycle, PriorRecommendation, ResponsePosition, State, User
from app.services import clock

#: Former names of states whose ISO code did not change, so ISO 3166-3 (pycountry's
#: ``historic_countries``) does not list them: the only names matched by hand.
FORMER_NAMES = {"cape verde": "CPV", "swaziland": "SWZ", "turkey": "TUR"}

#: Abbreviations of forms of government as exports write them, spelled out before comparing.
ABBREVIATIONS = {
    "dpr": "democratic peoples republic",
    "pdr": "peoples democratic republic",
    "fyr": "former yugoslav republic",
    "rep": "republic",
    "dem": "democratic",
    "st": "saint",
    "ste": "sainte",
}
#: Words that say nothing about which state is meant: ignored when comparing names.
STOPWORDS = frozenset({"the", "of", "and"})
#: Words of forms of government: a name whose other words belong to exactly one state's names
#: ("Palestine" in "State of Palestine", "Macedonia FYR" in "North Macedonia") means that state.
GOVERNMENT_FORMS = frozenset(
    {
        "arab", "bolivarian", "commonwealth", "democratic", "federal", "federated", "federation",
        "former", "independent", "islamic", "kingdom", "people", "peoples", "plurinational",
        "principality", "republic", "socialist", "state", "states", "union", "united",
        "yugoslav",
    }
)  # fmt: skip

#: UPR Info's response values and the UPR terms Pillars uses.
RESPONSES = {"accepted": ResponsePosition.SUPPORTED, "noted": ResponsePosition.NOTED}

COLUMNS = ("To", "Text", "From", "From-Rgrp", "Response", "Action", "Issue", "Session")


class ImportRefused(ValueError):
    """The file cannot be read as a UPR Info export at all (nothing is imported)."""


@dataclass
class ImportResult:
    """What an import did. ``unmapped`` lists each row not imported as ``(line, reason)``;
    ``unmapped_names`` counts rows per state-under-review name that could not be mapped;
    ``unmapped_recommending`` counts rows per recommending-state name kept without a code."""

    rows: int = 0
    imported: int = 0
    already_present: int = 0
    unmapped: list[tuple[int, str]] = field(default_factory=list)
    unmapped_names: Counter = field(default_factory=Counter)
    unmapped_recommending: Counter = field(default_factory=Counter)

    @property
    def summary(self) -> str:
        """The one-line summary the CLI ends with."""
        return (
            f"imported {self.imported}, already present {self.already_present}, "
            f"unmapped {len(self.unmapped)}"
        )


def _fold(name: str) -> str:
    """Lower case without accents and surrounding spaces: "Côte d'Ivoire" → "cote d'ivoire"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().casefold()


def name_key(name: str) -> str:
    """A state name reduced to what identifies it: HTML entities decoded, accents, case and
    punctuation dropped, "&" read as "and", abbreviations of government forms spelled out
    (`ABBREVIATIONS`), "the", "of" and "and" left out. "Trinidad & Tobago", "Trinidad and
    Tobago" and "the Trinidad and Tobago" share the key "trinidad tobago"."""
    text = _fold(html.unescape(name)).replace("&", " and ")
    text = re.sub(r"['’`]", "", text)  # "people's" → "peoples"
    words = re.sub(r"[^\w]+", " ", text).split()
    spelled = " ".join(ABBREVIATIONS.get(w, w) for w in words).split()
    return " ".join(w for w in spelled if w not in STOPWORDS)


def _forms(name: str) -> list[str]:
    """A pycountry name and, for ISO's inverted names ("Korea, Republic of"), its natural order
    ("Republic of Korea")."""
    forms = [name]
    head, comma, tail = name.partition(", ")
    if comma:
        forms.append(f"{tail} {head}")
    return forms


def _successor(historic) -> str | None:
    """The alpha-3 code of the state that took over a former ISO 3166 entry, read from its
    ISO 3166-3 four-letter code (its last two letters are the successor's alpha-2 code; ``AA``:
    unchanged; ``HH``/``XX``: no single successor, e.g. the USSR)."""
    new = historic.alpha_4[2:]
    if new in ("HH", "XX"):
        return None
    if new == "AA":
        new = historic.alpha_4[:2]
    current = pycountry.countries.get(alpha_2=new)
    return current.alpha_3 if current else None


@cache
def _known_names() -> dict[str, set[str]]:
    """`name_key` → alpha-3 codes, from pycountry's names (name, official and common names,
    inverted names in both orders) and ISO 3166-3's former names mapped to their successor."""
    names: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            for form in _forms(value) if value else []:
                names.setdefault(name_key(form), set()).add(country.alpha_3)
    for historic in pycountry.historic_countries:
        code = _successor(historic)
        if code:
            for form in _forms(historic.name):
                names.setdefault(name_key(form), set()).add(code)
    for former, code in FORMER_NAMES.items():
        names.setdefault(name_key(former), set()).add(code)
    return names


def _distinctive(key: str) -> frozenset[str]:
    return frozenset(w for w in key.split() if w not in GOVERNMENT_FORMS)


def map_state_name(name: str) -> str | None:
    """`_map_state_name`, remembered per name (an export repeats each name many times)."""
    return _map_state_name(name)


@cache
def _map_state_name(name: str) -> str | None:
    """The ISO 3166-1 alpha-3 code of a state name as UPR Info spells it, or None.

    Order: pycountry's exact lookup (codes and names); then `name_key` compared with the keys of
    every pycountry name, inverted ISO name and ISO 3166-3 former name (`_known_names`); then,
    when the name's words other than forms of government all belong to one state's names and no
    other's, that state. A name matching several states ("Korea") maps to none. pycountry's fuzzy
    search is not used: it maps "Republic of Korea" to the DPRK.
    """
    name = html.unescape(name).strip()
    if not name:
        return None
    try:
        return pycountry.countries.lookup(name).alpha_3
    except LookupError:
        pass
    key = name_key(name)
    exact = _known_names().get(key, set())
    if len(exact) == 1:
        return next(iter(exact))
    words = _distinctive(key)
    if exact or not words:
        return None
    within = {
        code
        for known, codes in _known_names().items()
        if words <= _distinctive(known)
        for code in codes
    }
    return next(iter(within)) if len(within) == 1 else None


def decode(data: bytes) -> str:
    """The text of a UPR Info export: Mac Roman as published; UTF-8 (with or without BOM) is
    accepted too when the bytes are valid UTF-8 (a file re-saved by a spreadsheet), and UTF-16
    with its BOM (a spreadsheet's "Unicode text").

    Raises:
        ImportRefused: a UTF-16 BOM followed by bytes that are not UTF-16.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as broken:
            raise ImportRefused(_("The file could not be read as text.")) from broken
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("mac_roman")
    # plain ASCII decodes the same either way; real Mac Roman bytes above 0x7f are rarely UTF-8
    return text


def row_hash(row: dict[str, str]) -> str:
    """SHA-256 (hex) of the row's published fields in column order, separated by US (0x1f)."""
    joined = "\x1f".join((row.get(column) or "").strip() for column in sorted(row))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def import_upr_csv(
    data: bytes, cycle: Cycle, *, source_file: str = "", user: User | None = None
) -> ImportResult:
    """Import the prior recommendations of a UPR Info CSV export into ``cycle``; flush.

    ``data``: the file's bytes as published. Returns the counts (see `ImportResult`).

    Raises:
        ImportRefused: the file is binary, not CSV, empty, or lacks a column of `COLUMNS`
            (nothing imported).
    """
    text = decode(data)
    if "\x00" in text:
        raise ImportRefused(_("This is not a CSV file (it contains binary data)."))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _import_rows(reader, cycle, source_file, user)
    except csv.Error as broken:
        raise ImportRefused(
            _("The file could not be read as CSV: %(error)s", error=str(broken))
        ) from broken


def _import_rows(
    reader: csv.DictReader, cycle: Cycle, source_file: str, user: User | None
) -> ImportResult:
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise ImportRefused(
            ngettext(
                "This is not a UPR Info export: column %(columns)s is missing.",
                "This is not a UPR Info export: columns %(columns)s are missing.",
                len(missing),
                columns=", ".join(missing),
            )
        )
    states: dict[str, int] = dict(db.session.execute(select(State.code, State.id)).all())
    known = set(db.session.scalars(select(PriorRecommendation.source_hash)))
    result = ImportResult()
    now = clock.now()
    for line, row in enumerate(reader, start=2):
        result.rows += 1
        digest = row_hash({k: v for k, v in row.items() if k is not None})
        if digest in known:
            result.already_present += 1
            continue
        published = html.unescape(row["To"] or "").strip()
        code = map_state_name(published)
        reason = None
        if code is None or code not in states:
            result.unmapped_names[published] += 1
            reason = _('state under review "%(name)s" could not be mapped', name=published)
        response = RESPONSES.get((row["Response"] or "").strip().casefold())
        action = (row["Action"] or "").strip()
        session = (row["Session"] or "").strip()
        text = (row["Text"] or "").strip()
        if reason is None and response is None:
            reason = _(
                'response "%(value)s" is neither Accepted nor Noted', value=row["Response"] or ""
            )
        if reason is None and action not in {"1", "2", "3", "4", "5"}:
            reason = _('action category "%(value)s" is not 1–5', value=action)
        if reason is None and not (session.isdigit() and int(session) >= 1):
            reason = _('UPR session "%(value)s" is not a number', value=session)
        if reason is None and not text:
            reason = _("the recommendation text is empty")
        if reason is not None:
            result.unmapped.append((line, reason))
            continue
        recommending = html.unescape(row["From"] or "").strip()
        recommending_code = map_state_name(recommending)
        if recommending_code is None:
            result.unmapped_recommending[recommending] += 1
        db.session.add(
            PriorRecommendation(
                state_id=states[code],
                cycle_id=cycle.id,
                text=text,
                published_state_name=published[:120],
                recommending_state=recommending[:120],
                recommending_code=recommending_code,
                recommending_group=(row["From-Rgrp"] or "").strip()[:20],
                response=response,
                action_category=int(action),
                issues=(row["Issue"] or "").strip(),
                upr_session=int(session),
                source_file=source_file[:255],
                source_hash=digest,
                imported_at=now,
                imported_by_id=user.id if user else None,
            )
        )
        known.add(digest)
        result.imported += 1
    if result.rows == 0:
        raise ImportRefused(_("The file has no recommendation rows."))
    db.session.flush()
    return result


def prior_recommendations_of(
    state: State, *, issue: str | None = None, response: str | None = None
) -> list[PriorRecommendation]:
    """The state's prior UPR recommendations, newest session first, optionally only those with
    ``issue`` among their issues and ``response`` ("supported" | "noted"). One query."""
    query = select(PriorRecommendation).where(PriorRecommendation.state_id == state.id)
    if response in {p.value for p in ResponsePosition}:
        query = query.where(PriorRecommendation.response == ResponsePosition(response))
    rows = db.session.scalars(
        query.order_by(PriorRecommendation.upr_session.desc(), PriorRecommendation.id)
    ).all()
    if issue:
        rows = [row for row in rows if issue in row.issue_list]
    return list(rows)


def issues_of(state: State) -> list[str]:
    """The distinct issues of the state's prior recommendations, sorted (for the filter)."""
    issues: set[str] = set()
    for value in db.session.scalars(
        select(PriorRecommendation.issues).where(PriorRecommendation.state_id == state.id)
    ):
        issues.update(i.strip() for i in value.split(",") if i.strip())
    return sorted(issues)
