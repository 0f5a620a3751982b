"""The CSV and XLSX exports are streamed row by row (issue 20) and say what the whole-file
exports said: the same bytes as ``csv.writer`` over every cell neutralised, with the latest
progress update and assessment taken from the histories themselves."""

from __future__ import annotations

import csv
import io
import types
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from app.models import (
    Assessment,
    AssessmentStatus,
    Cycle,
    FrameworkSection,
    ProgressStatus,
    ProgressUpdate,
    Recommendation,
    Response,
    Review,
    State,
)
from app.services import exports
from app.services.latest import latest_per_recommendation
from tests.test_exports import two_states  # noqa: F401 - the fixture

T0 = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def _reference_csv(db) -> bytes:
    """The export as issue 5 wrote it: ORM rows, the latest rows searched in the histories,
    every cell through `exports.neutralise`, ``csv.writer``, whole file in memory."""
    progress = latest_per_recommendation(ProgressUpdate)
    assessment = latest_per_recommendation(Assessment)
    query = (
        select(Recommendation, Response, Cycle, State, FrameworkSection, progress, assessment)
        .join(Review, Review.id == Recommendation.review_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .join(State, State.id == Review.state_id)
        .join(FrameworkSection, FrameworkSection.id == Recommendation.section_id)
        .outerjoin(Response, Response.recommendation_id == Recommendation.id)
        .outerjoin(progress, progress.c.recommendation_id == Recommendation.id)
        .outerjoin(assessment, assessment.c.recommendation_id == Recommendation.id)
        .order_by(Cycle.starts_on.desc(), State.name, FrameworkSection.number, Recommendation.id)
    )

    def instant(value):
        return value.isoformat(sep=" ")[:16] if value else ""

    def value(member):
        return "" if member is None else str(getattr(member, "value", member))

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _key, header in exports.COLUMNS])
    for rec, resp, cycle, state, section, *latest in db.session.execute(query):
        _pid, _prid, p_status, p_at, _aid, _arid, a_status, a_at = latest
        row = [
            cycle.name,
            state.code,
            state.name,
            f"{section.code} {section.title}",
            rec.text,
            rec.priority.value,
            rec.action_category,
            rec.addressee.value,
            rec.target_date.isoformat() if rec.target_date else "",
            value(resp.position) if resp else "",
            (resp.explanation or "") if resp else "",
            (resp.planned_action or "") if resp else "",
            (resp.responsible_institution or "") if resp else "",
            resp.target_date.isoformat() if resp and resp.target_date else "",
            value(p_status),
            instant(p_at and p_at.replace(tzinfo=None) if isinstance(p_at, datetime) else p_at),
            value(a_status),
            instant(a_at and a_at.replace(tzinfo=None) if isinstance(a_at, datetime) else a_at),
        ]
        writer.writerow([exports.neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@pytest.fixture
def awkward(db, two_states):  # noqa: F811 - the fixture imported above
    """Kenya and Ghana, plus texts a CSV must quote, a formula in the middle of a cell, accents,
    and histories of progress and assessments added out of date order."""
    kenya, ghana = two_states
    rec = db.session.scalars(
        select(Recommendation).where(Recommendation.review_id == kenya.review.id)
    ).first()
    rec.text = 'Adopt the "early warning" plan, in full;\nreport\r\nyearly — São Tomé = ok'
    rec.target_date = datetime(2028, 1, 31).date()
    author = kenya.identities["secretariat"]
    fp = kenya.identities["focal_point"]
    db.session.add_all(
        [
            ProgressUpdate(
                recommendation_id=rec.id,
                status=ProgressStatus.IN_PROGRESS,
                narrative="first",
                author_id=fp.id,
                created_at=T0 + timedelta(days=30),
            ),
            # written later, dated earlier: not the latest
            ProgressUpdate(
                recommendation_id=rec.id,
                status=ProgressStatus.NOT_STARTED,
                narrative="older",
                author_id=fp.id,
                created_at=T0,
            ),
            Assessment(
                recommendation_id=rec.id,
                status=AssessmentStatus.PARTIALLY_IMPLEMENTED,
                note="-",
                author_id=author.id,
                created_at=T0 + timedelta(days=400),
            ),
        ]
    )
    db.session.commit()
    return kenya, ghana


def _streaming_client(app, login_as, user) -> FlaskClient:
    """A client whose responses are read as they come (``buffered=False``), in the app context
    the test holds (the suite's own client opens one per request, which a stream outlives)."""
    return login_as(user, on=FlaskClient(app, app.response_class, use_cookies=True))


def test_csv_export_is_a_stream_whose_bytes_equal_the_whole_file_export(app, db, login_as, awkward):
    kenya, _ghana = awkward
    client = _streaming_client(app, login_as, kenya.identities["secretariat"])

    response = client.get("/recommendations/export.csv", buffered=False)

    assert response.status_code == 200
    assert response.is_streamed  # an iterator, not a body built whole
    body = b"".join(response.response)
    response.close()
    with app.app_context():
        expected = _reference_csv(db)
    assert body == expected
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    ken = next(r for r in rows if r["State code"] == "KEN")
    assert ken["Recommendation"].startswith('Adopt the "early warning" plan, in full;\nreport')
    assert ken["Latest progress"] == "in_progress"
    assert ken["Latest progress date (UTC)"] == "2027-03-31 09:30"
    assert ken["Latest assessment"] == "partially_implemented"
    assert ken["Target date"] == "2028-01-31"


def test_csv_chunks_is_a_generator_of_batches(app, db, awkward, monkeypatch):
    kenya, _ghana = awkward
    monkeypatch.setattr(exports, "BATCH", 1)  # one line a chunk
    with app.test_request_context():
        chunks = exports.csv_chunks(kenya.identities["secretariat"], exports.Filters())
        assert isinstance(chunks, types.GeneratorType)
        parts = list(chunks)
        expected = _reference_csv(db)
    assert len(parts) >= 3  # header, one line per recommendation, the rest
    assert b"".join(parts) == expected


def test_xlsx_export_is_streamed_from_a_write_only_workbook(app, db, login_as, awkward):
    kenya, _ghana = awkward
    client = _streaming_client(app, login_as, kenya.identities["secretariat"])

    response = client.get("/recommendations/export.xlsx", buffered=False)

    assert response.status_code == 200 and response.is_streamed
    body = b"".join(response.response)
    response.close()
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.title == "Recommendations" and sheet.freeze_panes == "A2"
    got = [list(row) for row in sheet.iter_rows(values_only=True)]
    with app.app_context():
        reference = list(csv.reader(io.StringIO(_reference_csv(db).decode("utf-8-sig"))))
    # the same cells as the CSV (numbers stay numbers; XLSX drops the vertical tab; empty cells
    # are empty)
    assert len(got) == len(reference)
    for sheet_row, csv_row in zip(got, reference, strict=True):
        assert ["" if cell is None else str(cell) for cell in sheet_row] == [
            cell.replace("\x0b", "") for cell in csv_row
        ]
