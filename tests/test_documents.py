"""Report documents (issue 19): PDFs with the state, the recommendations, the state's comments as
an annex and non-Latin scripts rendered (text extracted back with pypdf); the draft report as
an editable Word file for the lead reviewer and the secretariat only; file names without
personal data; the same access rules as the pages; without WeasyPrint the link says why."""

from __future__ import annotations

import io

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import select

from app.models import (
    ConsentLevel,
    FactualComment,
    PublicationConsent,
    Recommendation,
    Report,
)
from app.services import clock, documents
from tests.factories import prepared_review
from workflows import ReviewStatus

ARABIC = "تعزيز المسؤولية عن الحماية"
CHINESE = "加强保护责任"


def _text(response) -> str:
    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def kenya(make, db):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.FOLLOW_UP
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    report.adopted_at = clock.now()
    rec = db.session.scalar(select(Recommendation).where(Recommendation.review_id == review.id))
    db.session.add(
        Recommendation(
            review_id=review.id,
            section_id=rec.section_id,
            text=f"{ARABIC} — {CHINESE}",
            priority=rec.priority,
            action_category=3,
            addressee=rec.addressee,
        )
    )
    db.session.add(
        FactualComment(
            report_id=report.id,
            section_id=None,
            author_id=prepared.identities["focal_point"].id,
            body="The 2019 census figures are out of date.",
            created_at=clock.now(),
        )
    )
    db.session.commit()
    return prepared


def test_the_secretariat_downloads_the_report_as_pdf_with_annex_and_scripts(
    client, kenya, login_as
):
    login_as(kenya.identities["secretariat"])
    response = client.get(f"/reviews/{kenya.review.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "pillars-report-KEN-" in disposition and "@" not in disposition
    text = _text(response)
    assert "Kenya" in text
    assert "independent police complaints authority" in " ".join(text.split())
    assert ARABIC in text and CHINESE in text
    assert "Annex" in text and "2019 census figures" in text
    assert "1 / " in text  # page numbers


def test_the_lead_downloads_the_draft_report_as_word(client, db, kenya, login_as):
    kenya.review.status = ReviewStatus.EVALUATION
    db.session.commit()
    login_as(kenya.identities["lead_reviewer"])
    response = client.get(f"/reviews/{kenya.review.id}/report.docx")
    assert response.status_code == 200
    assert "pillars-draft-report-KEN-" in response.headers["Content-Disposition"]
    doc = Document(io.BytesIO(response.get_data()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Kenya" in text and "independent police complaints authority" in text
    assert "Executive summary" in text and ARABIC in text
    assert "2019 census figures" in text


@pytest.mark.parametrize("identity", ["member_reviewer", "focal_point", "other_focal_point"])
def test_only_the_lead_and_the_secretariat_get_the_word_file(client, kenya, login_as, identity):
    login_as(kenya.identities[identity])
    assert client.get(f"/reviews/{kenya.review.id}/report.docx").status_code in (403, 404)


@pytest.mark.parametrize(
    "identity, status",
    [("other_focal_point", 404), ("unassigned_reviewer", 404), ("focal_point", 200)],
)
def test_the_report_pdf_follows_the_report_pages_rule(client, kenya, login_as, identity, status):
    login_as(kenya.identities[identity])
    assert client.get(f"/reviews/{kenya.review.id}/report.pdf").status_code == status


def test_the_published_report_pdf_needs_the_states_consent(client, db, kenya):
    url = f"/public/reports/{kenya.review.id}/report.pdf"
    assert client.get(url).status_code == 404
    db.session.add(
        PublicationConsent(
            review_id=kenya.review.id,
            level=ConsentLevel.SUMMARY,
            author_id=kenya.identities["focal_point"].id,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    text = _text(client.get(url))
    assert "Kenya" in text and ARABIC in text
    assert "2019 census figures" not in text  # a summary consent publishes no comments
    assert "Findings" not in text


def test_the_mid_term_report_pdf(client, db, kenya, login_as):
    from app.services import follow_up, midterm

    rec = follow_up.recommendations_of(kenya.review)[0]
    follow_up.post_progress(rec, "in_progress", "Bill tabled.", kenya.identities["focal_point"])
    db.session.commit()
    midterm.generate(kenya.review, kenya.identities["secretariat"])
    db.session.commit()
    login_as(kenya.identities["focal_point"])
    response = client.get(f"/reviews/{kenya.review.id}/mid-term/1.pdf")
    assert response.status_code == 200
    assert "pillars-mid-term-KEN-" in response.headers["Content-Disposition"]
    text = " ".join(_text(response).split())
    assert "independent police complaints authority" in text and "Bill tabled." in text
    assert ARABIC in _text(response)
    login_as(kenya.identities["lead_reviewer"])
    assert client.get(f"/reviews/{kenya.review.id}/mid-term/1.pdf").status_code == 404


def test_without_weasyprint_the_link_says_why(client, kenya, login_as, monkeypatch):
    monkeypatch.setattr(documents, "_weasyprint", lambda: "cannot load library 'libpango'")
    login_as(kenya.identities["secretariat"])
    page = client.get(f"/reviews/{kenya.review.id}/report").get_data(as_text=True)
    assert "Download PDF" not in page and "Pango" in page
    assert client.get(f"/reviews/{kenya.review.id}/report.pdf").status_code == 503
