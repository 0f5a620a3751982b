"""Reading the interface catalogs for the tests: the messages in the code, each language's
catalog, compiling them, and finding English left in a page (issue 15).

The messages are extracted from the source with Babel's own extractor and ``babel.cfg`` (the
same as ``make i18n-extract``), so a message added without ``make i18n-update`` is caught even
when ``translations/messages.pot`` was not regenerated.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("ar", "es", "fr", "ru", "zh")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
    "Np_": (1, 2),
}
#: ``%(name)s``, ``%(num)d``, ``%s`` and ``{name}`` placeholders.
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{[A-Za-z_]\w*\}")
TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")


@cache
def source_messages() -> dict[str | tuple[str, str], set[str]]:
    """Every message id in the code and templates → the files it is used in."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str | tuple[str, str], set[str]] = {}
    ignore = ("tests", ".venv", "node_modules", "migrations", "bench")

    # Babel skips folders starting with "_" by default: templates/_macros has messages too
    def directory_filter(dirpath: str) -> bool:
        return not Path(dirpath).name.startswith(".")

    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=directory_filter
    ):
        if filename.split("/")[0] in ignore:
            continue
        if isinstance(message, tuple | list):
            key = (message[0], message[1]) if len(message) > 1 and message[1] else message[0]
        else:
            key = message
        if key:
            found.setdefault(key, set()).add(filename)
    return found


@cache
def catalog(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def compile_catalogs() -> None:
    """Write each language's ``messages.mo`` when it is missing or older than its ``.po`` (what
    ``make install`` does), so that running pytest directly shows translated pages."""
    for language in LANGUAGES:
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not po.exists() or (mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
            continue
        with po.open("rb") as handle:
            parsed = read_po(handle, locale=language)
        with mo.open("wb") as handle:
            write_mo(handle, parsed)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def tags(text: str) -> list[str]:
    """The HTML element names of ``text`` in order, with closing tags marked ``/``."""
    return [
        ("/" if m.group(0).startswith("</") else "") + m.group(1).lower()
        for m in TAG.finditer(text)
    ]


class _VisibleText(HTMLParser):
    """Collects the text a reader sees, skipping scripts, styles, text areas (what a person typed)
    and
    anything inside an element marked as people's own text (``dir="auto"``) or as another
    language (``lang`` other than the page's, e.g. the switcher's language names)."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self, page_language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_language = page_language
        self.stack: list[tuple[str, bool]] = []
        self.chunks: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skip = (
            tag in ("script", "style", "template", "textarea")
            or attributes.get("dir") == "auto"
            or (attributes.get("lang") not in (None, self.page_language) and tag != "html")
            or "user-text" in (attributes.get("class") or "").split()
        )
        if tag in self.VOID:
            if not skip and not self._skipping():
                for name in ("placeholder", "title", "aria-label", "alt"):
                    if attributes.get(name):
                        self.chunks.append(attributes[name])
            return
        self.stack.append((tag, skip))
        if not skip and not self._skipping():
            for name in ("placeholder", "title", "aria-label", "alt"):
                if attributes.get(name):
                    self.chunks.append(attributes[name])

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            self.chunks.append(data)


def visible_text(html: str, language: str) -> list[str]:
    parser = _VisibleText(language)
    parser.feed(html)
    return [" ".join(chunk.split()) for chunk in parser.chunks]


@cache
def english_vocabulary() -> frozenset[str]:
    """Every word of every English message (lower case)."""
    words: set[str] = set()
    for key in source_messages():
        for text in key if isinstance(key, tuple) else (key,):
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", PLACEHOLDER.sub(" ", text)))
    return frozenset(words)


FUNCTION_WORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "to",
        "a",
        "an",
        "in",
        "is",
        "are",
        "for",
        "on",
        "your",
        "you",
        "this",
        "be",
        "by",
        "with",
        "not",
        "no",
        "has",
        "have",
        "will",
        "was",
        "been",
        "it",
        "its",
        "or",
        "from",
        "as",
        "at",
        "that",
        "which",
        "who",
        "what",
        "when",
        "can",
        "may",
        "must",
    ]
)


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words in ``text`` (words of the interface's English
    messages, at least two of them function words such as "the", "of", "your"): what an
    untranslated sentence looks like in a page of another language."""
    vocabulary = english_vocabulary()
    runs: list[str] = []
    current: list[str] = []

    def close() -> None:
        if len(current) >= 3 and sum(w.lower() in FUNCTION_WORDS for w in current) >= 2:
            runs.append(" ".join(current))
        current.clear()

    for token in re.findall(r"[A-Za-z]+|[^\sA-Za-z]+", text):
        if (
            re.fullmatch(r"[A-Za-z]+", token)
            and token.lower() in vocabulary
            and len(token) > 1
            or token.lower() in ("a",)
        ):
            current.append(token)
        elif re.fullmatch(r"[\s,'’-]+", token):
            continue
        else:
            close()
    close()
    return runs
