"""Import of prior UPR recommendations from UPR Info CSV exports (issue 5, DESIGN §9).

The real export (``shared/data/upr-info-recommendations/1-5.csv``, UPR Info database via
rochelleterman/uprs) is read as published; small crafted files pin the format quirks: Mac Roman
bytes, CR line endings, an unknown state name, a bad response value.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import PriorRecommendation, ResponsePosition
from app.services import upr_import
from workflows import AssignmentStatus

REAL = Path(__file__).resolve().parents[3] / "shared/data/upr-info-recommendations/1-5.csv"
if not REAL.exists():  # a worktree under /work/wt/<name>
    REAL = Path("/work/shared/data/upr-info-recommendations/1-5.csv")

HEADER = "To,To-Rgrp,To-Org,Text,From,From-Rgrp,From-Org,Response,Action,Issue,Session"


def crafted(*rows: str) -> bytes:
    """A file as UPR Info publishes it: Mac Roman bytes, CR line endings."""
    return "\r".join([HEADER, *rows]).encode("mac_roman") + b"\r"


SAMPLE = crafted(
    # "Côte d'Ivoire" written in Mac Roman: ô is byte 0x99
    'Kenya,Africa,,"Ratify the Rome Statute, and cooperate with the ICC.",Côte d\'Ivoire,'
    'Africa,,Accepted,5,"Justice,International instruments",1',
    "Republic of Korea,Asia,,Abolish the death penalty.,France,WEOG,EU,Noted,4,Death penalty,2",
    "Atlantis,WEOG,,Build a sea wall.,France,WEOG,EU,Accepted,5,Environment,3",
    "Kenya,Africa,,Continue to train the police.,&#40;Unknown&#41;,,,Accepted,2,Justice,1",
)


def count(db) -> int:
    return db.session.scalar(select(func.count(PriorRecommendation.id)))


def test_state_names_of_upr_info_map_to_the_right_iso_codes():
    assert upr_import.map_state_name("Republic of Korea") == "KOR"  # pycountry's fuzzy says PRK
    assert upr_import.map_state_name("DPR Korea") == "PRK"
    assert upr_import.map_state_name("Democratic Republic of Congo") == "COD"
    assert upr_import.map_state_name("Republic of Congo") == "COG"
    assert upr_import.map_state_name("Cote d'Ivoire") == "CIV"
    assert upr_import.map_state_name("Côte d'Ivoire") == "CIV"
    assert upr_import.map_state_name("Viet Nam") == "VNM"
    assert upr_import.map_state_name("Turkey") == "TUR"
    assert upr_import.map_state_name("Macedonia FYR") == "MKD"
    assert upr_import.map_state_name("&#40;Unknown&#41;") is None
    assert upr_import.map_state_name("Atlantis") is None


@pytest.mark.parametrize(
    "written, code",
    [
        ("Trinidad & Tobago", "TTO"),
        ("Trinidad and Tobago", "TTO"),
        ("Bosnia & Herzegovina", "BIH"),
        ("St. Kitts & Nevis", "KNA"),
        ("The Gambia", "GMB"),
        ("Gambia (The)", "GMB"),
        ("Iran (Islamic Republic of)", "IRN"),
        ("Iran", "IRN"),
        ("Venezuela (Bolivarian Republic of)", "VEN"),
        ("Lao PDR", "LAO"),
        ("Democratic People's Republic of Korea", "PRK"),
        ("Holy See", "VAT"),
        ("Palestine", "PSE"),
        ("State of Palestine", "PSE"),
        ("the former Yugoslav Republic of Macedonia", "MKD"),
        ("Swaziland", "SWZ"),
        ("Cape Verde", "CPV"),
        ("Burma", "MMR"),  # ISO 3166-3: BUMM, succeeded by MM
        ("Zaire", "COD"),
        ("Upper Volta", "BFA"),
        ("East Timor", "TLS"),
        ("Czech Republic", "CZE"),
        ("Netherlands (Kingdom of the)", "NLD"),
    ],
)
def test_name_variants_map_through_normalisation_and_iso_names(written, code):
    assert upr_import.map_state_name(written) == code


@pytest.mark.parametrize("written", ["Korea", "USSR", "Yugoslavia", "Virgin Islands", ""])
def test_names_of_several_or_no_current_states_map_to_none(written):
    assert upr_import.map_state_name(written) is None


ROWS = (
    "Trinidad & Tobago,GRULAC,,Ratify the Arms Trade Treaty.,Côte d'Ivoire,Africa,,Accepted,5,"
    "Justice,1",
    "Korea,Asia,,Abolish the death penalty.,France,WEOG,EU,Noted,4,Death penalty,2",
)


@pytest.mark.parametrize(
    "encoding, ending, bom",
    [
        ("mac_roman", "\r", b""),
        ("utf-8", "\n", b""),
        ("utf-8", "\r\n", b"\xef\xbb\xbf"),
        ("utf-8", "\r", b"\xef\xbb\xbf"),
        ("utf-16", "\r\n", b""),  # Python writes the BOM itself
    ],
)
def test_the_export_is_read_in_any_encoding_and_line_ending_and_lists_every_refused_row(
    db, make, encoding, ending, bom
):
    cycle = make.cycle()
    data = bom + ending.join([HEADER, *ROWS, ""]).encode(encoding)
    result = upr_import.import_upr_csv(data, cycle)
    assert result.summary == "imported 1, already present 0, unmapped 1"
    assert result.unmapped == [(3, 'state under review "Korea" could not be mapped')]
    row = db.session.scalar(select(PriorRecommendation))
    assert row.state.code == "TTO" and row.recommending_state == "Côte d'Ivoire"
    assert row.recommending_code == "CIV"


def test_the_same_export_saved_as_utf8_is_already_present(db, make):
    cycle = make.cycle()
    upr_import.import_upr_csv(SAMPLE, cycle)
    again = upr_import.import_upr_csv(
        b"\xef\xbb\xbf" + SAMPLE.decode("mac_roman").replace("\r", "\r\n").encode(), cycle
    )
    assert again.summary == "imported 0, already present 3, unmapped 1"


def test_crafted_mac_roman_file_with_cr_endings_imports_and_reports_the_unknown_name(
    db, make, runner, tmp_path
):
    cycle = make.cycle()
    path = tmp_path / "upr.csv"
    path.write_bytes(SAMPLE)
    assert b"\r\n" not in SAMPLE and b"\x99" in SAMPLE  # really CR-only Mac Roman
    result = runner.invoke(args=["recommendations", "import-upr", str(path), "--cycle", cycle.name])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "imported 3, already present 0, unmapped 1"
    assert "unmapped state under review: 'Atlantis' (1 row, not imported)" in result.output
    assert "line 4:" in result.output
    assert "recommending state without code: '(Unknown)'" in result.output
    rows = {r.text: r for r in db.session.scalars(select(PriorRecommendation)).all()}
    rome = rows["Ratify the Rome Statute, and cooperate with the ICC."]
    assert rome.state.code == "KEN" and rome.cycle_id == cycle.id
    assert rome.recommending_state == "Côte d'Ivoire" and rome.recommending_code == "CIV"
    assert rome.response == ResponsePosition.SUPPORTED
    assert rome.action_category == 5 and rome.upr_session == 1 and rome.upr_cycle == 1
    assert rome.issue_list == ["Justice", "International instruments"]
    korea = rows["Abolish the death penalty."]
    assert korea.state.code == "KOR" and korea.response == ResponsePosition.NOTED
    assert rows["Continue to train the police."].recommending_state == "(Unknown)"
    assert rows["Continue to train the police."].recommending_code is None

    again = runner.invoke(args=["recommendations", "import-upr", str(path), "--cycle", cycle.name])
    assert again.output.strip().splitlines()[-1] == "imported 0, already present 3, unmapped 1"
    assert count(db) == 3


def test_bad_values_are_listed_not_imported_and_a_non_export_is_refused(db, make, runner, tmp_path):
    cycle = make.cycle()
    data = crafted(
        "Kenya,Africa,,Text one.,France,WEOG,,Pending,5,Justice,1",
        "Kenya,Africa,,Text two.,France,WEOG,,Accepted,9,Justice,1",
        "Kenya,Africa,,Text three.,France,WEOG,,Accepted,3,Justice,x",
    )
    result = upr_import.import_upr_csv(data, cycle)
    assert result.summary == "imported 0, already present 0, unmapped 3"
    reasons = " ".join(reason for _line, reason in result.unmapped)
    assert "Pending" in reasons and '"9"' in reasons and '"x"' in reasons
    path = tmp_path / "other.csv"
    path.write_bytes(b"name,value\rKenya,1\r")
    refused = runner.invoke(
        args=["recommendations", "import-upr", str(path), "--cycle", cycle.name]
    )
    assert refused.exit_code != 0 and "not a UPR Info export" in refused.output
    unknown = runner.invoke(args=["recommendations", "import-upr", str(path), "--cycle", "Nope"])
    assert unknown.exit_code != 0 and "No cycle named" in unknown.output
    assert count(db) == 0


@pytest.mark.skipif(not REAL.exists(), reason="the shared real-data folder is not mounted")
def test_the_real_upr_info_export_imports_every_row_once(db, make, runner):
    cycle = make.cycle()
    started = time.perf_counter()
    result = runner.invoke(args=["recommendations", "import-upr", str(REAL), "--cycle", cycle.name])
    first = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "imported 6094, already present 0, unmapped 0"
    assert count(db) == 6094
    by_response = dict(
        db.session.execute(
            select(PriorRecommendation.response, func.count()).group_by(
                PriorRecommendation.response
            )
        ).all()
    )
    assert by_response == {ResponsePosition.SUPPORTED: 4087, ResponsePosition.NOTED: 2007}
    again = runner.invoke(args=["recommendations", "import-upr", str(REAL), "--cycle", cycle.name])
    assert again.output.strip().splitlines()[-1] == "imported 0, already present 6094, unmapped 0"
    assert count(db) == 6094
    assert first < 60


def test_secretariat_uploads_an_export_on_the_cycle_page(db, make, client, login_as):
    cycle = make.cycle()
    login_as(make.secretariat())
    page = client.get(f"/admin/cycles/{cycle.id}")
    assert f'action="/admin/cycles/{cycle.id}/upr-import"' in page.get_data(as_text=True)
    response = client.post(
        f"/admin/cycles/{cycle.id}/upr-import",
        data={"file": (io.BytesIO(SAMPLE), "upr.csv")},
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "imported 3, already present 0, unmapped 1" in text
    assert "Atlantis" in text and "(Unknown)" in text
    assert count(db) == 3
    again = client.post(
        f"/admin/cycles/{cycle.id}/upr-import",
        data={"file": (io.BytesIO(SAMPLE), "upr.csv")},
        content_type="multipart/form-data",
    )
    assert "imported 0, already present 3, unmapped 1" in again.get_data(as_text=True)
    empty = client.post(f"/admin/cycles/{cycle.id}/upr-import", data={})
    assert empty.status_code == 422 and "Choose a CSV file." in empty.get_data(as_text=True)
    bad = client.post(
        f"/admin/cycles/{cycle.id}/upr-import",
        data={"file": (io.BytesIO(b"a,b\r1,2\r"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "not a UPR Info export" in bad.get_data(as_text=True)
    binary = client.post(
        f"/admin/cycles/{cycle.id}/upr-import",
        data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00"), "picture.csv")},
        content_type="multipart/form-data",
    )
    assert binary.status_code == 422 and "binary data" in binary.get_data(as_text=True)
    wrong_type = client.post(
        f"/admin/cycles/{cycle.id}/upr-import",
        data={"file": (io.BytesIO(SAMPLE), "upr.xlsx")},
        content_type="multipart/form-data",
    )
    assert wrong_type.status_code == 422
    assert "The file must be a CSV export" in wrong_type.get_data(as_text=True)
    assert count(db) == 3


@pytest.mark.parametrize("role", ["focal_point", "reviewer"])
def test_only_the_secretariat_may_import(db, make, client, login_as, role):
    cycle = make.cycle()
    login_as(getattr(make, role)("KEN"))
    assert client.get(f"/admin/cycles/{cycle.id}/upr-import").status_code == 403
    response = client.post(
        f"/admin/cycles/{cycle.id}/upr-import",
        data={"file": (io.BytesIO(SAMPLE), "upr.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert count(db) == 0


def test_review_page_shows_prior_recommendations_to_those_working_on_it(db, make, client, login_as):
    secretariat = make.secretariat()
    review = make.review("KEN")
    upr_import.import_upr_csv(SAMPLE, review.cycle)
    db.session.commit()
    member = make.reviewer("FRA")
    make.assignment(review, member, status=AssignmentStatus.ACCEPTED, actor=secretariat)
    invited = make.reviewer("BRA")
    make.assignment(review, invited, status=AssignmentStatus.INVITED, actor=secretariat)
    url = f"/reviews/{review.id}"
    for user in (secretariat, make.focal_point("KEN"), member):
        login_as(user)
        text = client.get(url).get_data(as_text=True)
        assert "Prior UPR recommendations" in text, user.role
        assert "Ratify the Rome Statute" in text and "Continue to train the police." in text
        assert "Abolish the death penalty." not in text  # the Republic of Korea's
    login_as(make.secretariat())
    noted = client.get(url, query_string={"response": "noted"}).get_data(as_text=True)
    assert "Ratify the Rome Statute" not in noted
    by_issue = client.get(url, query_string={"issue": "International instruments"}).get_data(
        as_text=True
    )
    assert "Ratify the Rome Statute" in by_issue and "train the police" not in by_issue
    login_as(invited)
    text = client.get(url).get_data(as_text=True)
    assert "Prior UPR recommendations" not in text and "Rome Statute" not in text
    login_as(make.focal_point("GHA"))
    assert client.get(url).status_code == 404
