"""Every user-facing string is marked for translation (Flask-Babel)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
#: Text that is not language: punctuation, symbols, numbers, entities.
NOT_WORDS = re.compile(r"^[\s\W\d_]*$|^&[a-z]+;$")


def _unmarked_text(source: str) -> list[str]:
    text = JINJA.sub(" ", source)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    found = []
    for chunk in TAG.sub("\n", text).splitlines():
        chunk = chunk.strip()
        if chunk and not NOT_WORDS.match(chunk) and re.search(r"[A-Za-z]{2,}", chunk):
            found.append(chunk)
    return found


def test_templates_have_no_text_outside_translation_calls():
    offenders = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        found = _unmarked_text(path.read_text(encoding="utf-8"))
        if found:
            offenders[str(path.relative_to(TEMPLATES))] = found[:5]
    assert offenders == {}


def test_the_check_catches_unmarked_text():
    assert _unmarked_text("<p>{{ _('Marked') }}</p><p>Not marked</p>") == ["Not marked"]
    assert _unmarked_text("<p>{{ x }} — {{ y }}</p>") == []


def test_attributes_a_person_reads_are_marked():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = JINJA.sub("", path.read_text(encoding="utf-8"))
        for match in re.finditer(r'\b(aria-label|placeholder|title|alt)="([^"]*)"', source):
            if re.search(r"[A-Za-z]{2,}", match.group(2)):
                offenders.append(f"{path.name}: {match.group(0)}")
    assert offenders == []
