"""The six UN languages are complete and consistent (issue 15, DESIGN §11).

Catalogs: every message of the code is translated in ar, es, fr, ru and zh, none fuzzy, with the
same placeholders and the same HTML structure as the English, and every plural form filled. The
glossary of each language covers the regime's terms. The framework questionnaire has a complete
translation per language. Formatting follows the reader's locale.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

import pytest
import yaml

from app.formatting import format_date, format_instant, format_list, format_number
from app.i18n import state_name
from tests.catalogs import (
    LANGUAGES,
    ROOT,
    TRANSLATIONS,
    catalog,
    placeholders,
    source_messages,
    tags,
)

FRAMEWORK = ROOT / "app" / "data" / "frameworks" / "r2p-capacity-v1.yaml"
#: Glossary terms every language must define (issue 15, item 1).
REQUIRED_TERMS = (
    "responsibility to protect",
    "atrocity crimes",
    "peer review",
    "focal point",
    "secretariat",
    "self-assessment",
    "supported",
    "noted",
    "mid-term report",
    "capacity",
    "follow-up",
    "recommendation",
    "African Group",
    "Asia-Pacific Group",
    "Eastern European Group",
    "minimal action",
    "specific action",
    "implemented",
    "partially implemented",
    "not implemented",
    "absent",
    "advanced",
)


def _msgstrs(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_interface_is_translated(language):
    translated = catalog(language)
    missing = []
    for key in source_messages():
        message = translated.get(key if isinstance(key, str) else key[0])
        if message is None or not all(s.strip() for s in _msgstrs(message)):
            missing.append(key if isinstance(key, str) else key[0])
    assert missing == [], f"{len(missing)} untranslated in {language}: {missing[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_fuzzy(language):
    fuzzy = [m.id for m in catalog(language) if m.id and m.fuzzy]
    assert fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_html_match_the_english(language):
    translated = catalog(language)
    wrong = []
    for message in translated:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        english_placeholders = set(placeholders(ids[-1])) | set(placeholders(ids[0]))
        for text in _msgstrs(message):
            if not text:
                continue
            found = set(placeholders(text))
            # a plural form may leave out the count ("one measure"), never add an unknown one
            if not found <= english_placeholders or (
                len(ids) == 1 and found != set(placeholders(ids[0]))
            ):
                wrong.append((ids[0], text, "placeholders"))
            if tags(text) != tags(ids[0]):
                wrong.append((ids[0], text, "html"))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_messages_have_every_form_of_the_language(language):
    translated = catalog(language)
    short = [
        m.id[0]
        for m in translated
        if m.id and m.pluralizable and len([s for s in m.string if s]) != translated.num_plurals
    ]
    assert translated.num_plurals == {"ar": 6, "zh": 1}.get(language, translated.num_plurals)
    assert short == []


def test_arabic_has_six_plural_forms_and_chinese_one():
    assert catalog("ar").num_plurals == 6
    assert catalog("zh").num_plurals == 1
    assert catalog("ru").num_plurals == 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_glossary_names_the_regimes_terms(language):
    path = TRANSLATIONS / "glossary" / f"{language}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    terms = {row["term_en"].strip().lower(): row["term"].strip() for row in rows}
    missing = [term for term in REQUIRED_TERMS if not terms.get(term.lower())]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_framework_has_a_complete_translation(language):
    english = yaml.safe_load(FRAMEWORK.read_text(encoding="utf-8"))
    path = FRAMEWORK.with_name(f"{FRAMEWORK.stem}.{language}.yaml")
    translated = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert translated["code"] == english["code"] and translated["version"] == english["version"]
    assert translated["title"].strip()
    levels = {item["level"]: item for item in translated["capacity_levels"]}
    assert sorted(levels) == [item["level"] for item in english["capacity_levels"]]
    assert all(item["label"].strip() and item["description"].strip() for item in levels.values())
    sections = {s["code"]: s for s in translated["sections"]}
    assert list(sections) == [s["code"] for s in english["sections"]]
    for section in english["sections"]:
        theirs = sections[section["code"]]
        assert theirs["title"].strip() and theirs["title"] != section["title"]
        questions = {q["code"]: q for q in theirs["questions"]}
        assert list(questions) == [q["code"] for q in section["questions"]]
        for question in section["questions"]:
            for field in ("prompt", "guidance", "expected_evidence"):
                if question.get(field):
                    assert questions[question["code"]][field].strip(), (question["code"], field)


def test_seed_loads_the_framework_in_every_language_and_falls_back_per_field(app, db):
    from flask_babel import force_locale

    from app.models import Question

    question = db.session.query(Question).filter_by(code="SEC-1").one()
    english = question.prompt_en
    seen = {}
    for language in LANGUAGES:
        with app.test_request_context(), force_locale(language):
            seen[language] = question.prompt
    assert all(text and text != english for text in seen.values())
    assert len(set(seen.values())) == len(LANGUAGES)
    # a field a translation leaves out is shown in English, the other fields still translated
    question.translations = {"fr": {"prompt": "Question en français"}}
    with app.test_request_context(), force_locale("fr"):
        assert question.prompt == "Question en français"
        assert question.guidance == question.guidance_en


def test_dates_numbers_and_lists_follow_the_readers_locale():
    instant = datetime(2027, 3, 12, 20, 59, tzinfo=UTC)
    assert format_instant(instant, "Africa/Nairobi", language="en") == (
        "12 Mar 2027, 23:59 (Africa/Nairobi)"
    )
    assert format_instant(instant, "Africa/Nairobi", language="fr") == (
        "12 mars 2027, 23:59 (Africa/Nairobi)"
    )
    assert format_date(date(2027, 3, 12), language="zh") == "2027年3月12日"
    assert "مارس" in format_date(date(2027, 3, 12), language="ar")
    assert format_date(date(2027, 3, 12), language="ru").startswith("12 мар")
    assert format_number(12345.5, language="fr") == "12\u202f345,5"
    assert format_number(12345.5, language="es") == "12.345,5"
    assert format_list(["A", "B", "C"], language="es") == "A, B y C"


def test_state_names_are_shown_in_the_readers_language():
    assert state_name("DEU", "Germany", "fr") == "Allemagne"
    assert state_name("DEU", "Germany", "ar") == "ألمانيا"
    assert state_name("DEU", "Germany", "zh") == "德国"
    assert state_name("DEU", "Germany", "ru") == "Германия"
    assert state_name("DEU", "Germany", "en") == "Germany"
