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
    # e-mail bodies and subjects (templates/email/*.txt) too
    for path in sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")]):
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


def test_counts_take_the_singular_or_plural_form_not_a_parenthesised_s(app):
    """Flask-Babel's ``ngettext`` is available in templates (Jinja i18n extension, new style:
    ``%(num)d`` filled in), and counted workflow refusals choose their form by the count."""
    from flask import render_template_string

    from app.services.transitions import refusal_text
    from workflows.review import all_recommendations_answered

    template = "{{ ngettext('%(num)d review', '%(num)d reviews', n) }}"
    with app.test_request_context():
        assert render_template_string(template, n=1) == "1 review"
        assert render_template_string(template, n=2) == "2 reviews"
        one = all_recommendations_answered({"unanswered_recommendations": 1})
        three = all_recommendations_answered({"unanswered_recommendations": 3})
        assert refusal_text(one) == "1 recommendation has no response yet."
        assert refusal_text(three) == "3 recommendations have no response yet."
    assert one.render() == "1 recommendation has no response yet."  # English without Babel


def test_no_message_writes_a_plural_as_s_in_parentheses():
    root = Path(__file__).resolve().parent.parent
    sources = [*root.joinpath("app").rglob("*.py"), *root.joinpath("workflows").rglob("*.py")]
    sources += list(root.joinpath("templates").rglob("*.html"))
    found = [
        f"{path.relative_to(root)}: {match}"
        for path in sources
        for match in re.findall(r"\w+\(s\)", path.read_text(encoding="utf-8"))
        if match not in {"tuple(s)", "str(s)"}
    ]
    assert found == []
