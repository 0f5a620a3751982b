"""Evidence files beside the self-assessment answers: accepted by content, stored under generated
keys, served only to those who see the self-assessment (DESIGN §5), never lost answers."""

from __future__ import annotations

import io
import os
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.models import EvidenceFile
from app.services import evidence
from tests.test_self_assessment import _answer
from workflows import AssignmentStatus, ReviewStatus

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 20


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})


@pytest.fixture
def review(make):
    return make.review("KEN")


@pytest.fixture
def fp(make):
    return make.focal_point("KEN")


def _post(client, review, data, number=2):
    return client.post(
        f"/reviews/{review.id}/self-assessment/{number}",
        data=data,
        content_type="multipart/form-data",
    )


def _files(db, review, *, removed=False):
    query = select(EvidenceFile).where(EvidenceFile.review_id == review.id)
    if not removed:
        query = query.where(EvidenceFile.removed_at.is_(None))
    return list(db.session.scalars(query.order_by(EvidenceFile.id)))


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (PDF, "Loi n° 12 — police.pdf", "application/pdf"),
        (PNG, "carte.png", "image/png"),
        (JPEG, "photo.JPG", "image/jpeg"),
        (DOCX, "plan.docx", evidence.DOCX.mime),
        (XLSX, "budget.xlsx", evidence.XLSX.mime),
        (ODT, "rapport.odt", evidence.ODT.mime),
        ("Очерк: ответ\n".encode(), "notes.txt", evidence.TEXT.mime),
        ("\ufeffقانون\u00a0الشرطة\u200f;2011\r\n".encode(), "table.csv", evidence.TEXT.mime),
    ],
)
def test_accepted_types_are_recognised_by_content(data, name, mime):
    kind = evidence.detect(data)
    assert kind is not None and kind.mime == mime
    assert os.path.splitext(name)[1].lower() in kind.extensions


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "report.pdf"),  # text, named as a PDF
        (PDF, "report.txt"),  # a PDF named as text
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60, "setup.pdf"),  # a Windows executable
        (_zip({"payload.sh": b"rm -rf /"}), "plan.docx"),  # a zip without the DOCX entries
        (_zip({"mimetype": b"application/zip", "content.xml": b"x"}), "a.odt"),
        (b"\xff\xfe\x00t\x00e\x00x\x00t", "utf16.txt"),  # not UTF-8
        (b"text\x1b[31m with a terminal escape", "escape.txt"),  # control characters
        (b"", "empty.pdf"),
    ],
)
def test_other_content_is_refused_and_the_answers_are_still_saved(
    client, db, login_as, review, fp, data, name
):
    login_as(fp)
    response = _post(
        client,
        review,
        {
            "SEC-1-narrative": "Police in 40 of 47 counties.",
            "SEC-1-files": (io.BytesIO(data), name),
        },
    )
    assert response.status_code == 302
    assert _answer(db, review, "SEC-1").narrative == "Police in 40 of 47 counties."
    assert _files(db, review) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "was not attached" in page


def test_too_large_file_is_refused_while_the_answers_are_saved(
    app, client, db, login_as, review, fp
):
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    login_as(fp)
    response = _post(
        client,
        review,
        {
            "SEC-1-narrative": "Le texte saisi reste enregistré.",
            "SEC-1-files": (io.BytesIO(PDF + b"0" * 2000), "gros.pdf"),
        },
    )
    assert response.status_code == 302
    assert _answer(db, review, "SEC-1").narrative == "Le texte saisi reste enregistré."
    assert _files(db, review) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "gros.pdf was not attached: it is larger than 1 KB." in page


def test_request_over_the_limit_gets_a_413_page_showing_the_typed_answers(
    app, client, db, login_as, review, fp
):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    login_as(fp)
    response = _post(
        client,
        review,
        {
            "SEC-1-narrative": "Une longue réponse que personne ne veut retaper.",
            "SEC-1-files": (io.BytesIO(PDF + b"0" * 10_000), "gros.pdf"),
        },
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The upload is too large" in page
    assert "Une longue réponse que personne ne veut retaper." in page
    assert _answer(db, review, "SEC-1") is None
    assert _files(db, review) == []


def test_file_is_stored_under_a_generated_key_and_downloaded_with_its_unicode_name(
    app, client, db, login_as, review, fp
):
    login_as(fp)
    name = "Закон о полиции — résumé.pdf"
    response = _post(
        client,
        review,
        {"SEC-1-narrative": "See the law.", "SEC-1-files": (io.BytesIO(PDF), "../../" + name)},
    )
    assert response.status_code == 302
    [stored] = _files(db, review)
    assert stored.original_name == name
    assert stored.content_type == "application/pdf"
    assert stored.size_bytes == len(PDF)
    folder = app.config["UPLOAD_FOLDER"]
    assert os.listdir(folder) == [stored.storage_key]
    assert len(stored.storage_key) == 32 and name not in stored.storage_key

    page = client.get(f"/reviews/{review.id}/self-assessment/2").get_data(as_text=True)
    assert name in page
    download = client.get(f"/reviews/{review.id}/self-assessment/files/{stored.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in disposition


def test_file_of_another_review_is_not_found_through_this_reviews_url(
    client, db, login_as, make, review, fp
):
    login_as(fp)
    _post(client, review, {"SEC-1-files": (io.BytesIO(PDF), "a.pdf")})
    [stored] = _files(db, review)
    other = make.review("KEN", cycle=make.cycle("2028 cycle"))
    assert client.get(f"/reviews/{other.id}/self-assessment/files/{stored.id}").status_code == 404


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("secretariat", True),
        ("focal_point", True),
        ("accepted", True),
        ("other_focal_point", False),
        ("invited", False),
        ("declined", False),
        ("conflicted", False),
        ("withdrawn", False),
        ("unassigned", False),
    ],
)
def test_file_is_served_only_to_those_who_see_the_self_assessment(
    app, db, make, login_as, review, fp, who, allowed
):
    uploader = login_as(fp, on=app.test_client())
    _post(uploader, review, {"SEC-1-files": (io.BytesIO(PDF), "a.pdf")})
    [stored] = _files(db, review)
    secretariat = make.secretariat()
    if who == "secretariat":
        user = secretariat
    elif who == "focal_point":
        user = make.focal_point("KEN")
    elif who == "other_focal_point":
        user = make.focal_point("GHA")
    else:
        user = make.reviewer("NOR")
        if who != "unassigned":
            make.assignment(review, user, status=AssignmentStatus(who), actor=secretariat)
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    client = login_as(user, on=app.test_client())
    response = client.get(f"/reviews/{review.id}/self-assessment/files/{stored.id}")
    assert response.status_code == (200 if allowed else 404)
    if allowed:
        assert response.data == PDF
    assert (
        app.test_client().get(f"/reviews/{review.id}/self-assessment/files/{stored.id}").status_code
        == 302
    )  # anonymous: to the sign-in page, nothing served


def test_focal_point_removes_a_file_while_editable_and_the_answers_are_saved(
    client, db, login_as, review, fp
):
    login_as(fp)
    _post(client, review, {"SEC-1-files": (io.BytesIO(PDF), "old.pdf")})
    [stored] = _files(db, review)
    response = _post(
        client, review, {"SEC-1-narrative": "Typed before removing.", "remove_evidence": stored.id}
    )
    assert response.status_code == 302
    assert _files(db, review) == []
    assert _answer(db, review, "SEC-1").narrative == "Typed before removing."
    db.session.expire_all()
    assert _files(db, review, removed=True)[0].removed_by_id == fp.id
    url = f"/reviews/{review.id}/self-assessment/files/{stored.id}"
    assert client.get(url).status_code == 404


def test_files_cannot_be_removed_or_added_after_submission(client, db, login_as, review, fp):
    login_as(fp)
    _post(client, review, {"SEC-1-files": (io.BytesIO(PDF), "kept.pdf")})
    [stored] = _files(db, review)
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    page = client.get(f"/reviews/{review.id}/self-assessment/2").get_data(as_text=True)
    assert "kept.pdf" in page and 'name="remove_evidence"' not in page and 'type="file"' not in page
    response = _post(
        client, review, {"remove_evidence": stored.id, "SEC-1-files": (io.BytesIO(PDF), "b.pdf")}
    )
    assert response.status_code in (302, 409)
    db.session.expire_all()
    assert [f.original_name for f in _files(db, review, removed=True)] == ["kept.pdf"]
    assert _files(db, review)[0].removed_at is None


def test_a_refused_save_says_the_chosen_files_were_not_attached(client, db, login_as, review, fp):
    login_as(fp)
    response = _post(
        client, review, {"SEC-1-level": "9", "SEC-1-files": (io.BytesIO(PDF), "a.pdf")}
    )
    assert response.status_code == 422
    assert "choose them again" in response.get_data(as_text=True)
    assert _files(db, review) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C:\\fakepath\\Loi.pdf", "Loi.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("na\x00me\x1b.pdf", "name.pdf"),
        ("..", "evidence"),
        ("e\u0301t\u00e9.pdf", "\u00e9t\u00e9.pdf"),
    ],
)
def test_file_names_lose_paths_and_control_characters(raw, clean):
    assert evidence.clean_name(raw) == clean


def test_the_review_team_finds_the_files_beside_the_answers(app, db, make, login_as, review, fp):
    uploader = login_as(fp, on=app.test_client())
    _post(uploader, review, {"SEC-1-files": (io.BytesIO(PDF), "Rapport annuel.pdf")})
    [stored] = _files(db, review)
    member = make.reviewer("NOR")
    make.assignment(review, member, status=AssignmentStatus.ACCEPTED)
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    client = login_as(member, on=app.test_client())
    link = f"/reviews/{review.id}/self-assessment/files/{stored.id}"
    for page in ("", "/2"):
        body = client.get(f"/reviews/{review.id}/self-assessment{page}").get_data(as_text=True)
        assert "Rapport annuel.pdf" in body and link in body


def test_a_text_file_is_downloaded_with_one_charset(client, db, login_as, review, fp):
    login_as(fp)
    data = {"SEC-1-narrative": "See the notes.", "SEC-1-files": (io.BytesIO(b"Notes"), "n.txt")}
    assert _post(client, review, data).status_code == 302
    [stored] = _files(db, review)
    download = client.get(f"/reviews/{review.id}/self-assessment/files/{stored.id}")
    assert download.status_code == 200 and download.data == b"Notes"
    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_the_same_file_posted_again_is_attached_once(app, client, db, login_as, review, fp):
    """A re-posted form (back and resubmit) or the same file chosen again adds no second copy;
    another file, or the same file beside another question, is attached."""
    login_as(fp)
    for _ in range(2):
        response = _post(client, review, {"SEC-1-files": (io.BytesIO(PDF), "law.pdf")})
        assert response.status_code == 302
    assert len(_files(db, review)) == 1
    assert len(os.listdir(app.config["UPLOAD_FOLDER"])) == 1
    other = PDF.replace(b"Catalog", b"Catalog /Lang (en)")
    _post(client, review, {"SEC-1-files": (io.BytesIO(other), "law-en.pdf")})
    _post(client, review, {"SEC-2-files": (io.BytesIO(PDF), "law.pdf")})
    assert len(_files(db, review)) == 3
