"""Stakeholder submissions (issue 18): a civil-society organisation submits while the review is
in self-assessment or evaluation, the secretariat screens and summarises, the review team reads
accepted submissions, and the reviewed state sees only the summary — never the identity of an
organisation that asked for anonymity (pages, file names, file metadata, history, counts)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from app.models import StakeholderSubmission, SubmissionStatus
from tests.factories import prepared_review
from workflows import ReviewStatus

ORG = "Haki Rights Watch"
TEXT = "Detainees in Mombasa report beatings during police custody."


def _docx(author: str) -> bytes:
    """A minimal DOCX whose core properties name ``author``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>Testimony</w:document>")
        archive.writestr(
            "docProps/core.xml",
            f"<cp:coreProperties><dc:creator>{author}</dc:creator>"
            f"<cp:lastModifiedBy>{author}</cp:lastModifiedBy><dc:title>T</dc:title>"
            "</cp:coreProperties>",
        )
    return out.getvalue()


@pytest.fixture
def setting(make, db):
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.SELF_ASSESSMENT
    db.session.commit()
    return {
        "review": prepared.review,
        "section": prepared.review.cycle.framework.sections[1],
        "fp": prepared.identities["focal_point"],
        "secretariat": prepared.identities["secretariat"],
        "lead": prepared.identities["lead_reviewer"],
        "stakeholder": make.stakeholder(ORG),
        "other_stakeholder": make.stakeholder("Kenya National Commission", kind="nhri"),
    }


def _submit(client, setting, *, anonymous=True, file_name=f"{ORG} testimony.docx"):
    return client.post(
        f"/reviews/{setting['review'].id}/submissions/new",
        data={
            "identity": "anonymous" if anonymous else "named",
            f"section-{setting['section'].id}": TEXT,
            "files": (io.BytesIO(_docx(ORG)), file_name),
        },
        content_type="multipart/form-data",
    )


def test_submission_needs_text_and_keeps_what_was_typed(app, setting, login_as):
    client = login_as(setting["stakeholder"], on=app.test_client())
    response = client.post(
        f"/reviews/{setting['review'].id}/submissions/new", data={"identity": "named"}
    )
    assert response.status_code == 422
    assert "at least one section" in response.get_data(as_text=True)


def test_submissions_are_closed_outside_self_assessment_and_evaluation(app, db, setting, login_as):
    setting["review"].status = ReviewStatus.FACTUAL_CHECK
    db.session.commit()
    client = login_as(setting["stakeholder"], on=app.test_client())
    assert _submit(client, setting).status_code == 404
    assert db.session.scalar(select(StakeholderSubmission)) is None


def test_anonymous_submission_reaches_the_team_and_the_state_sees_only_the_summary(
    app, db, setting, login_as
):
    review = setting["review"]
    author = login_as(setting["stakeholder"], on=app.test_client())
    assert _submit(author, setting).status_code == 302
    submission = db.session.scalar(select(StakeholderSubmission))
    assert submission.anonymous and submission.status == SubmissionStatus.SUBMITTED

    # the stored file's author fields are gone
    record = submission.files[0]
    from app.services import evidence

    stored = evidence.stored_key_path(record.storage_key).read_bytes()
    assert ORG.encode() not in zipfile.ZipFile(io.BytesIO(stored)).read("docProps/core.xml")

    # another stakeholder and the state cannot open it
    other = login_as(setting["other_stakeholder"], on=app.test_client())
    assert other.get(f"/submissions/{submission.id}").status_code == 404
    state = login_as(setting["fp"], on=app.test_client())
    assert state.get(f"/submissions/{submission.id}").status_code == 404

    secretariat = login_as(setting["secretariat"], on=app.test_client())
    queue = secretariat.get("/submissions").get_data(as_text=True)
    assert ORG in queue and "asked for anonymity" in queue
    refused = secretariat.post(f"/submissions/{submission.id}/screen", data={"decision": "reject"})
    assert refused.status_code == 422
    secretariat.post(
        f"/submissions/{submission.id}/screen",
        data={"decision": "ask_changes", "reason": "Say which police station."},
    )
    page = author.get(f"/submissions/{submission.id}/edit").get_data(as_text=True)
    assert "Say which police station." in page
    author.post(
        f"/submissions/{submission.id}/edit",
        data={"identity": "anonymous", f"section-{setting['section'].id}": TEXT + " (Central)"},
    )
    secretariat.post(f"/submissions/{submission.id}/screen", data={"decision": "accept"})
    secretariat.post(
        f"/reviews/{review.id}/stakeholders/summary/{setting['section'].id}",
        data={"body": "Civil society reports ill-treatment in police custody."},
    )

    # the review team reads it, without the organisation's name, file named neutrally
    review.status = ReviewStatus.EVALUATION
    db.session.commit()
    team = login_as(setting["lead"], on=app.test_client())
    listing = team.get(f"/reviews/{review.id}/stakeholders").get_data(as_text=True)
    assert "(Central)" in listing and "Anonymous organisation" in listing and ORG not in listing
    shown = team.get(f"/submissions/{submission.id}")
    assert shown.status_code == 200 and ORG not in shown.get_data(as_text=True)
    download = team.get(f"/submissions/{submission.id}/files/{record.id}")
    assert download.status_code == 200
    assert ORG not in download.headers["Content-Disposition"]
    assert ORG.encode() not in download.get_data()
    download.close()

    # the state reads the summary only: no text, no name, no count, no link to the submission
    summary = state.get(f"/reviews/{review.id}/stakeholders").get_data(as_text=True)
    assert "ill-treatment in police custody" in summary
    for hidden in (ORG, "(Central)", "Anonymous organisation", f"/submissions/{submission.id}"):
        assert hidden not in summary, hidden
    pages = (f"/reviews/{review.id}", f"/reviews/{review.id}/history", "/home", "/notifications")
    for url in pages:
        response = state.get(url)
        assert ORG not in response.get_data(as_text=True), url


def test_a_named_submission_shows_its_organisation_to_the_team(app, db, setting, login_as):
    author = login_as(setting["stakeholder"], on=app.test_client())
    _submit(author, setting, anonymous=False)
    submission = db.session.scalar(select(StakeholderSubmission))
    secretariat = login_as(setting["secretariat"], on=app.test_client())
    secretariat.post(f"/submissions/{submission.id}/screen", data={"decision": "accept"})
    setting["review"].status = ReviewStatus.EVALUATION
    db.session.commit()
    team = login_as(setting["lead"], on=app.test_client())
    assert ORG in team.get(f"/reviews/{setting['review'].id}/stakeholders").get_data(as_text=True)


def test_team_does_not_read_submissions_the_secretariat_has_not_accepted(
    app, db, setting, login_as
):
    author = login_as(setting["stakeholder"], on=app.test_client())
    _submit(author, setting)
    submission = db.session.scalar(select(StakeholderSubmission))
    setting["review"].status = ReviewStatus.EVALUATION
    db.session.commit()
    team = login_as(setting["lead"], on=app.test_client())
    assert team.get(f"/submissions/{submission.id}").status_code == 404
    assert TEXT not in team.get(f"/reviews/{setting['review'].id}/stakeholders").get_data(
        as_text=True
    )


def test_secretariat_creates_a_stakeholder_account_after_checking_it(app, db, setting, login_as):
    from app.models import Role, StakeholderKind, User

    secretariat = login_as(setting["secretariat"], on=app.test_client())
    response = secretariat.post(
        "/admin/stakeholders",
        data={
            "email": "ombudsman@example.org",
            "display_name": "Grace Wanjiru",
            "organisation": "Office of the Ombudsman",
            "kind": "nhri",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "ombudsman@example.org"))
    assert user.role == Role.STAKEHOLDER and user.stakeholder_kind == StakeholderKind.NHRI


def test_metadata_is_stripped_from_pdf_png_and_jpeg():
    from app.services.file_metadata import strip_author_fields

    pdf = b"%PDF-1.4\n1 0 obj <</Author (Haki) /Title (x)>> endobj\n%%EOF"
    stripped = strip_author_fields(pdf, "application/pdf")
    assert b"Haki" not in stripped and len(stripped) == len(pdf)
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", b"0" * 13) + chunk(b"tEXt", b"Author\x00Haki")
    assert b"Haki" not in strip_author_fields(png + chunk(b"IEND", b""), "image/png")
    jpeg = b"\xff\xd8" + b"\xff\xe1\x00\x06Haki" + b"\xff\xda\x00\x02" + b"pixels"
    out = strip_author_fields(jpeg, "image/jpeg")
    assert b"Haki" not in out and out.endswith(b"pixels")
