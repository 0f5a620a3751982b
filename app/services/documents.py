"""Report documents (issue 19; DESIGN §12): the consolidated report, the mid-term report and the
published report as PDF (WeasyPrint), and the draft report as an editable Word file
(python-docx) for the lead reviewer and the secretariat.

The caller checks access (`app.access`) and renders the HTML of a PDF from a template; this
module gathers what a document holds (`ReportDocument`, the same content as the report page,
without any official's or reviewer's name), turns HTML into PDF bytes and builds the Word file.
WeasyPrint needs Pango and fonts from the system (README "System packages"): when it cannot be
loaded, `pdf_unavailable_reason` says why, and the pages show that instead of a broken link.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask_babel import gettext as _

from app.models import ConsentLevel, Review
from app.services import evaluation as evaluation_service
from app.services import report as report_service

#: The system packages WeasyPrint and the documents' scripts need (Debian names).
SYSTEM_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core", "fonts-wqy-microhei")


@dataclass
class DocumentSection:
    number: int
    title: str
    rating: int | None
    findings: str
    good_practices: str


@dataclass
class DocumentRecommendation:
    number: str
    section: str
    text: str
    action_category: int
    position: str | None = None
    carried: bool = False


@dataclass
class DocumentComment:
    """A factual-accuracy comment of the state; ``section`` None for a general comment."""

    section: str | None
    body: str
    created_at: datetime


@dataclass
class ReportDocument:
    """What a report document holds. ``adopted``: the secretariat adopted it (else a draft)."""

    state: str
    state_code: str
    cycle: str
    time_zone: str
    adopted: bool
    executive_summary: str
    sections: list[DocumentSection] = field(default_factory=list)
    recommendations: list[DocumentRecommendation] = field(default_factory=list)
    comments: list[DocumentComment] = field(default_factory=list)


def _numbered(recommendations) -> list[tuple[str, object]]:
    """``[("2.1", rec), ...]``: numbered within their section, as on the report page."""
    counts: dict[int, int] = {}
    numbered = []
    for rec in recommendations:
        counts[rec.section.number] = counts.get(rec.section.number, 0) + 1
        numbered.append((f"{rec.section.number}.{counts[rec.section.number]}", rec))
    return numbered


def report_document(review: Review) -> ReportDocument:
    """The consolidated report of ``review`` as the report page shows it (the caller checked
    ``report.view``): summary, sections with consensus ratings, findings and good practices,
    recommendations, and the state's factual-accuracy comments (for the annex)."""
    report = report_service.report_of(review)
    rows = {row.section_id: row for row in report.sections} if report else {}
    sections = [
        DocumentSection(
            number=s.number,
            title=s.title,
            rating=rows[s.id].consensus_rating if s.id in rows else None,
            findings=rows[s.id].findings if s.id in rows else "",
            good_practices=rows[s.id].good_practices if s.id in rows else "",
        )
        for s in evaluation_service.framework_sections(review)
    ]
    titles = {s.number: f"{s.number}. {s.title}" for s in sections}
    by_id = {s.id: s for s in evaluation_service.framework_sections(review)}
    comments = []
    for comment in sorted(report.comments if report else [], key=lambda c: (c.created_at, c.id)):
        section = by_id.get(comment.section_id)
        comments.append(
            DocumentComment(
                section=titles.get(section.number) if section else None,
                body=comment.body,
                created_at=comment.created_at,
            )
        )
    return ReportDocument(
        state=review.state.name,
        state_code=review.state.code,
        cycle=review.cycle.name,
        time_zone=review.cycle.time_zone,
        adopted=bool(report and report.adopted_at),
        executive_summary=report.executive_summary if report else "",
        sections=sections,
        recommendations=[
            DocumentRecommendation(
                number=number,
                section=f"{rec.section.number}. {rec.section.title}",
                text=rec.text,
                action_category=rec.action_category,
                carried=rec.carried_from_id is not None,
            )
            for number, rec in _numbered(report_service.recommendations_of(review))
        ],
        comments=comments,
    )


def public_report_document(found) -> ReportDocument:
    """The published report (`app.services.publication.PublicReport`): what the public page
    shows under the state's consent — under ``summary`` only the executive summary and the
    recommendations; under ``full`` also sections, the state's positions and its comments."""
    full = found.level == ConsentLevel.FULL
    review = found.review
    return ReportDocument(
        state=review.state.name,
        state_code=review.state.code,
        cycle=review.cycle.name,
        time_zone=review.cycle.time_zone,
        adopted=True,
        executive_summary=found.report.executive_summary,
        sections=[
            DocumentSection(
                number=s.number,
                title=s.title,
                rating=row.consensus_rating if row else None,
                findings=row.findings if row else "",
                good_practices=row.good_practices if row else "",
            )
            for s, row in found.sections
        ],
        recommendations=[
            DocumentRecommendation(
                number=number,
                section=f"{rec.section.number}. {rec.section.title}",
                text=rec.text,
                action_category=rec.action_category,
                position=(
                    rec.response.position.value
                    if full and rec.response and rec.response.position
                    else None
                ),
                carried=rec.carried_from_id is not None,
            )
            for number, rec in _numbered(found.recommendations)
        ],
        comments=[
            DocumentComment(
                section=f"{c.section.number}. {c.section.title}" if c.section else None,
                body=c.body,
                created_at=c.created_at,
            )
            for c in found.comments
        ]
        if full
        else [],
    )


def file_name(kind: str, state_code: str, cycle: str, extension: str, version: int | None = None):
    """A download name without personal data: ``pillars-report-KEN-2027-cycle.pdf``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", cycle).strip("-").lower() or "cycle"
    suffix = f"-v{version}" if version is not None else ""
    return f"pillars-{kind}-{state_code}-{slug}{suffix}.{extension}"


# --- PDF ------------------------------------------------------------------------------------------


@cache
def _weasyprint():
    """The weasyprint module, or the text of the error that stopped it loading."""
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: Pango or its libraries are missing
        return str(error) or type(error).__name__
    return weasyprint


def pdf_unavailable_reason() -> str | None:
    """None when PDFs can be made here; else a sentence for the page saying why not."""
    if isinstance(_weasyprint(), str):
        return _(
            "PDF documents are not available on this server: the system libraries they need "
            "(Pango) are not installed. Print the page instead, or ask the administrator."
        )
    return None


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot run here (see `pdf_unavailable_reason`)."""


def _no_fetch(url: str, *args, **kwargs):
    """Documents embed everything they show: nothing is fetched, from the network or disk."""
    raise ValueError(f"documents fetch nothing ({url[:40]})")


def pdf_bytes(html: str, css: str) -> bytes:
    """``html`` (a complete page) with stylesheet ``css`` rendered as PDF bytes.

    Raises:
        PdfUnavailable: WeasyPrint or its system libraries are missing.
    """
    weasyprint = _weasyprint()
    if isinstance(weasyprint, str):
        raise PdfUnavailable(weasyprint)
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    return document.write_pdf(stylesheets=[weasyprint.CSS(string=css, url_fetcher=_no_fetch)])


# --- Word -----------------------------------------------------------------------------------------


def _paragraphs(doc, text: str) -> None:
    for block in (text or "").split("\n\n"):
        if block.strip():
            doc.add_paragraph(block.strip())


def report_docx(document: ReportDocument) -> bytes:
    """The draft report as an editable Word file (.docx), headings in the request's language:
    title, executive summary, each section with its consensus rating, findings and good
    practices, the recommendations, and the state's factual-accuracy comments as an annex."""
    from docx import Document

    title = _(
        "Peer review report: %(state)s, %(cycle)s", state=document.state, cycle=document.cycle
    )
    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.author = "Pillars"
    doc.add_heading(title, level=0)
    if not document.adopted:
        doc.add_paragraph(_("Draft: not adopted by the secretariat."))
    doc.add_heading(_("Executive summary"), level=1)
    _paragraphs(doc, document.executive_summary)
    for section in document.sections:
        doc.add_heading(f"{section.number}. {section.title}", level=1)
        if section.rating is not None:
            doc.add_paragraph(_("Consensus rating: %(rating)d", rating=section.rating))
        if section.findings:
            doc.add_heading(_("Findings"), level=2)
            _paragraphs(doc, section.findings)
        if section.good_practices:
            doc.add_heading(_("Good practices"), level=2)
            _paragraphs(doc, section.good_practices)
    doc.add_heading(_("Recommendations"), level=1)
    for rec in document.recommendations:
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{rec.number} ").bold = True
        paragraph.add_run(rec.text)
        detail = _(
            "%(section)s; action category %(category)d",
            section=rec.section,
            category=rec.action_category,
        )
        paragraph.add_run(f" ({detail})").italic = True
    if document.comments:
        doc.add_heading(_("Annex: comments of the state on the factual accuracy"), level=1)
        for comment in document.comments:
            doc.add_heading(comment.section or _("General comments"), level=2)
            _paragraphs(doc, comment.body)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
