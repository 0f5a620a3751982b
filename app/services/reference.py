"""Loading reference data: UN member states, treaty ratifications, framework versions (§9).

Every loader is idempotent: running it again updates nothing that is already right and adds
nothing twice. Sources (each folder under ``app/data/reference/`` keeps its SOURCE.md):
- UN regional groups: openclimatedata/countrygroups (UN DGACM list), CC0.
- Treaty ratification: world-politics-datalab/humanrights-treaties-ratification-status (UN Treaty
  Collection status pages, 2022).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry
import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES
from app.models import (
    AnswerType,
    Cycle,
    Framework,
    FrameworkSection,
    Question,
    RegionalGroup,
    State,
    TreatyRatification,
)
from app.services.text_search import contains_any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REGIONAL_GROUPS_CSV = DATA_DIR / "reference" / "un-regional-groups" / "un-regional-groups.csv"
RATIFICATION_DIR = DATA_DIR / "reference" / "hr-treaty-ratification"
FRAMEWORK_DIR = DATA_DIR / "frameworks"

#: Turkey is listed in two groups (WEOG and Asia-Pacific) in the UN list; for electoral purposes
#: it is counted in WEOG, which is the group we keep.
PREFERRED_GROUP = {"TUR": RegionalGroup.WEOG}
#: Codes in the ratification data that ISO 3166 has since replaced.
LEGACY_ISO2 = {"TP": "TL"}

#: The 18 instruments of the ratification data: code → (short name, full title, core or protocol).
TREATIES: dict[str, tuple[str, str, str]] = {
    "icerd": (
        "ICERD",
        "International Convention on the Elimination of All Forms of Racial Discrimination",
        "core",
    ),
    "iccpr": ("ICCPR", "International Covenant on Civil and Political Rights", "core"),
    "icescr": ("ICESCR", "International Covenant on Economic, Social and Cultural Rights", "core"),
    "cedaw": (
        "CEDAW",
        "Convention on the Elimination of All Forms of Discrimination against Women",
        "core",
    ),
    "cat": (
        "CAT",
        "Convention against Torture and Other Cruel, Inhuman or Degrading Treatment or Punishment",
        "core",
    ),
    "crc": ("CRC", "Convention on the Rights of the Child", "core"),
    "icmw": (
        "ICMW",
        "International Convention on the Protection of the Rights of All Migrant "
        "Workers and Members of Their Families",
        "core",
    ),
    "cped": (
        "CPED",
        "International Convention for the Protection of All Persons from Enforced Disappearance",
        "core",
    ),
    "crpd": ("CRPD", "Convention on the Rights of Persons with Disabilities", "core"),
    "iccpr_op1": (
        "ICCPR-OP1",
        "First Optional Protocol to the ICCPR (individual complaints)",
        "protocol",
    ),
    "iccpr_op2": (
        "ICCPR-OP2",
        "Second Optional Protocol to the ICCPR (abolition of the death penalty)",
        "protocol",
    ),
    "icescr_op": ("ICESCR-OP", "Optional Protocol to the ICESCR", "protocol"),
    "op_cedaw": ("OP-CEDAW", "Optional Protocol to CEDAW", "protocol"),
    "opcat": ("OPCAT", "Optional Protocol to the Convention against Torture", "protocol"),
    "op_crc_ac": (
        "OP-CRC-AC",
        "Optional Protocol to the CRC on children in armed conflict",
        "protocol",
    ),
    "op_crc_sc": (
        "OP-CRC-SC",
        "Optional Protocol to the CRC on the sale of children, child "
        "prostitution and child pornography",
        "protocol",
    ),
    "op_crc_ic": (
        "OP-CRC-IC",
        "Optional Protocol to the CRC on a communications procedure",
        "protocol",
    ),
    "op_crpd": ("OP-CRPD", "Optional Protocol to the CRPD", "protocol"),
}

#: Each instrument's name as a pre-filled answer cites it, "short name (full title)" in
#: English as in `TREATIES`; translated with the official UN title and abbreviation of each
#: language (the translation catalogs).
TREATY_NAMES = {
    "icerd": _l(
        "ICERD (International Convention on the Elimination of All Forms of Racial Discrimination)"
    ),
    "iccpr": _l("ICCPR (International Covenant on Civil and Political Rights)"),
    "icescr": _l("ICESCR (International Covenant on Economic, Social and Cultural Rights)"),
    "cedaw": _l(
        "CEDAW (Convention on the Elimination of All Forms of Discrimination against Women)"
    ),
    "cat": _l(
        "CAT (Convention against Torture and Other Cruel, Inhuman or Degrading Treatment "
        "or Punishment)"
    ),
    "crc": _l("CRC (Convention on the Rights of the Child)"),
    "icmw": _l(
        "ICMW (International Convention on the Protection of the Rights of All Migrant "
        "Workers and Members of Their Families)"
    ),
    "cped": _l(
        "CPED (International Convention for the Protection of All Persons from Enforced "
        "Disappearance)"
    ),
    "crpd": _l("CRPD (Convention on the Rights of Persons with Disabilities)"),
    "iccpr_op1": _l("ICCPR-OP1 (First Optional Protocol to the ICCPR (individual complaints))"),
    "iccpr_op2": _l(
        "ICCPR-OP2 (Second Optional Protocol to the ICCPR (abolition of the death penalty))"
    ),
    "icescr_op": _l("ICESCR-OP (Optional Protocol to the ICESCR)"),
    "op_cedaw": _l("OP-CEDAW (Optional Protocol to CEDAW)"),
    "opcat": _l("OPCAT (Optional Protocol to the Convention against Torture)"),
    "op_crc_ac": _l("OP-CRC-AC (Optional Protocol to the CRC on children in armed conflict)"),
    "op_crc_sc": _l(
        "OP-CRC-SC (Optional Protocol to the CRC on the sale of children, child "
        "prostitution and child pornography)"
    ),
    "op_crc_ic": _l("OP-CRC-IC (Optional Protocol to the CRC on a communications procedure)"),
    "op_crpd": _l("OP-CRPD (Optional Protocol to the CRPD)"),
}


@dataclass
class LoadResult:
    """Counts of one loader run: rows added and rows updated."""

    added: int = 0
    updated: int = 0


def load_states(path: Path = REGIONAL_GROUPS_CSV) -> LoadResult:
    """Upsert the 193 UN member states with their regional group and ISO alpha-2 code.

    Raises:
        ValueError: on an unknown regional group or an ISO code pycountry does not know.
    """
    result = LoadResult()
    existing = {s.code: s for s in db.session.scalars(select(State))}
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["Code"].strip()
            group = PREFERRED_GROUP.get(code, RegionalGroup(row["Region"].strip()))
            if code in seen:
                continue
            seen.add(code)
            country = pycountry.countries.get(alpha_3=code)
            if country is None:
                raise ValueError(f"unknown ISO 3166-1 alpha-3 code {code!r}")
            state = existing.get(code)
            if state is None:
                db.session.add(
                    State(
                        code=code,
                        name=row["Name"].strip(),
                        iso2=country.alpha_2,
                        regional_group=group,
                    )
                )
                result.added += 1
            elif (state.name, state.iso2, state.regional_group) != (
                row["Name"].strip(),
                country.alpha_2,
                group,
            ):
                state.name, state.iso2, state.regional_group = (
                    row["Name"].strip(),
                    country.alpha_2,
                    group,
                )
                result.updated += 1
    db.session.flush()
    return result


def load_ratifications(directory: Path = RATIFICATION_DIR) -> LoadResult:
    """Upsert the ratification status of the 18 instruments for every state (by ISO alpha-2, or
    by name where the source's code is wrong). Known gap of the source: ``op_crc_ic`` lists
    Montserrat instead of Gabon, so Gabon has no row for that protocol ("no data" in the
    pre-filled answer)."""
    result = LoadResult()
    all_states = list(db.session.scalars(select(State)))
    states = {s.iso2: s for s in all_states}
    by_name = {s.name.lower(): s for s in all_states}
    existing = {(r.state_id, r.treaty): r for r in db.session.scalars(select(TreatyRatification))}
    for treaty in TREATIES:
        with (directory / f"hr_status_{treaty}.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                iso2 = LEGACY_ISO2.get(row["iso2"].strip(), row["iso2"].strip())
                # the source mistypes some codes (South Sudan is "S" in op_crc_ic): fall back to
                # the name; rows of non-members (Montserrat) match nothing and are skipped
                state = states.get(iso2) or by_name.get(row["member"].strip().lower())
                if state is None:
                    continue
                status = row["status"].strip()
                year_text = row["year ratification or accession"].strip()
                year = int(float(year_text)) if year_text else None
                current = existing.get((state.id, treaty))
                if current is None:
                    db.session.add(
                        TreatyRatification(
                            state_id=state.id, treaty=treaty, status=status, year=year
                        )
                    )
                    result.added += 1
                elif (current.status, current.year) != (status, year):
                    current.status, current.year = status, year
                    result.updated += 1
    db.session.flush()
    return result


def load_framework(path: Path) -> tuple[Framework, bool]:
    """Load a framework version from a YAML data file; return (framework, created).

    An existing (code, version) is left untouched: frameworks are never edited in place once
    loaded (DESIGN §3) — publish a new version instead.

    Raises:
        ValueError: on an unknown answer type or a duplicate question code.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = db.session.scalar(
        select(Framework).where(
            Framework.code == data["code"], Framework.version == int(data["version"])
        )
    )
    if found is not None:
        apply_framework_translations(found, path)
        return found, False
    framework = Framework(
        code=data["code"],
        version=int(data["version"]),
        title=data["title"],
        source=data.get("source", ""),
    )
    db.session.add(framework)
    codes: set[str] = set()
    for section_data in data["sections"]:
        section = FrameworkSection(
            framework=framework,
            number=int(section_data["number"]),
            code=section_data["code"],
            title=section_data["title"],
            pillar=int(section_data.get("pillar", 1)),
            description=section_data.get("description", ""),
            brief_section=section_data.get("brief_section", ""),
        )
        db.session.add(section)
        for position, q in enumerate(section_data["questions"], start=1):
            if q["code"] in codes:
                raise ValueError(f"duplicate question code {q['code']}")
            codes.add(q["code"])
            db.session.add(
                Question(
                    section=section,
                    code=q["code"],
                    position=position,
                    prompt=q["prompt"],
                    guidance=q.get("guidance", ""),
                    answer_type=AnswerType(q["answer_type"]),
                    required=bool(q.get("required", True)),
                    expected_evidence=q.get("expected_evidence", ""),
                    brief_section=q.get("brief_section", ""),
                    prefill=q.get("prefill"),
                )
            )
    db.session.flush()
    apply_framework_translations(framework, path)
    return framework, True


#: Text fields of a framework that its translation files translate (DESIGN §11).
FRAMEWORK_FIELDS = ("title",)
SECTION_FIELDS = ("title", "description")
QUESTION_FIELDS = ("prompt", "guidance", "expected_evidence")
LEVEL_FIELDS = ("label", "description")


def translation_files(path: Path) -> dict[str, Path]:
    """The translation files of the framework file ``path``: ``r2p-capacity-v1.yaml`` →
    ``{"fr": r2p-capacity-v1.fr.yaml, ...}``, one per interface language present."""
    found = {}
    for language in LANGUAGES:
        candidate = path.with_name(f"{path.stem}.{language}.yaml")
        if language != DEFAULT_LANGUAGE and candidate.exists():
            found[language] = candidate
    return found


def apply_framework_translations(framework: Framework, path: Path) -> list[str]:
    """Store the translations of ``framework``'s text from the translation files beside its data
    file (same codes and structure, only text fields: see `translation_files`) in the
    ``translations`` column of the framework, its sections and questions; returns the languages
    applied. A field missing from a translation falls back to English when shown, per field.

    Translations may be updated on a framework a cycle uses: they change how its text reads, not
    what it asks.

    Raises:
        ValueError: when a translation file names a section or question code that the framework
            does not have (a translation of another version).
    """
    files = translation_files(path)
    framework_tr: dict = {}
    section_tr: dict[str, dict] = {}
    question_tr: dict[str, dict] = {}
    sections = {section.code: section for section in framework.sections}
    questions = {q.code: q for section in framework.sections for q in section.questions}
    for language, file in files.items():
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        framework_tr[language] = _fields(data, FRAMEWORK_FIELDS)
        for section_data in data.get("sections") or []:
            if section_data.get("code") not in sections:
                raise ValueError(f"{file.name}: unknown section {section_data.get('code')!r}")
            section_tr.setdefault(section_data["code"], {})[language] = _fields(
                section_data, SECTION_FIELDS
            )
            for q in section_data.get("questions") or []:
                if q.get("code") not in questions:
                    raise ValueError(f"{file.name}: unknown question {q.get('code')!r}")
                question_tr.setdefault(q["code"], {})[language] = _fields(q, QUESTION_FIELDS)
    framework.translations = framework_tr
    for code, section in sections.items():
        section.translations = section_tr.get(code, {})
    for code, question in questions.items():
        question.translations = question_tr.get(code, {})
    db.session.flush()
    return sorted(files)


def _fields(data: dict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(data[name]).strip() for name in names if str(data.get(name) or "").strip()}


def capacity_level_descriptions(path: Path, language: str) -> dict[int, str]:
    """What each capacity level 0–4 means, from the framework file ``path`` in ``language`` (its
    translation file, falling back to English per level)."""
    english = _levels(path)
    translation = translation_files(path).get(language)
    if translation is None:
        return english
    return {level: text for level, text in {**english, **_levels(translation)}.items() if text}


def _levels(path: Path) -> dict[int, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        int(item["level"]): " ".join(str(item.get("description", "")).split())
        for item in data.get("capacity_levels") or []
        if str(item.get("description", "")).strip()
    }


@cache
def section_titles(language: str) -> dict[str, str]:
    """English section title → its title in ``language``, for every framework data file (read
    from the files, no query: for rows that carry only the stored English title)."""
    titles: dict[str, str] = {}
    for path in framework_files(FRAMEWORK_DIR):
        english = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        translation = translation_files(path).get(language)
        if translation is None:
            continue
        theirs = yaml.safe_load(translation.read_text(encoding="utf-8")) or {}
        by_code = {s.get("code"): s.get("title") for s in theirs.get("sections") or []}
        for section in english.get("sections") or []:
            if by_code.get(section["code"]):
                titles[section["title"]] = str(by_code[section["code"]]).strip()
    return titles


def framework_files(directory: Path = FRAMEWORK_DIR) -> list[Path]:
    """The framework data files in ``directory``, without their translation files
    (``<name>.<language>.yaml``)."""
    return [
        path
        for path in sorted(directory.glob("*.yaml"))
        if path.stem.rpartition(".")[2] not in LANGUAGES or "." not in path.stem
    ]


def load_all_frameworks(directory: Path = FRAMEWORK_DIR) -> list[tuple[Framework, bool]]:
    return [load_framework(path) for path in framework_files(directory)]


def latest_framework() -> Framework | None:
    return db.session.scalar(select(Framework).order_by(Framework.version.desc()).limit(1))


def framework_in_use(framework: Framework) -> bool:
    return db.session.scalar(select(Cycle.id).where(Cycle.framework_id == framework.id)) is not None


def states_query(text: str = "", group: RegionalGroup | None = None) -> Select:
    """The UN member states whose name or ISO code contains ``text`` (any case), in regional
    ``group`` (None: any); unsorted."""
    query = select(State)
    if text.strip():
        query = query.where(contains_any(text.strip(), State.name, State.code))
    if group is not None:
        query = query.where(State.regional_group == group)
    return query
