"""Publication consent and the public pages: each consent level shows exactly what it allows."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.models import (
    Addressee,
    Assessment,
    AssessmentStatus,
    Priority,
    PublicationConsent,
    Recommendation,
    Report,
    ReportSection,
)
from app.services import clock
from tests.factories import prepared_review
from workflows import ReviewStatus

SECRET_EVALUATION = "Findings"  # the evaluations' findings text in prepared_review


def _adopt(db, review, status=ReviewStatus.FOLLOW_UP):
    """Put ``review`` after adoption: status, adopted report, a good practice in section 2."""
    review.status = status
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    report.adopted_at = clock.now()
    row = db.session.scalar(
        select(ReportSection).where(
            ReportSection.report_id == report.id,
            ReportSection.section_id == review.cycle.framework.sections[1].id,
        )
    )
    row.good_practices = "Civilian oversight board with public hearings."
    db.session.commit()
    return report


@pytest.fixture
def kenya(make, db):
    prepared = prepared_review(make)
    _adopt(db, prepared.review)
    return prepared


def _consent(client, review, level):
    return client.post(f"/reviews/{review.id}/publication", data={"level": level})


def test_nothing_is_public_by_default(app, kenya, client):
    review = kenya.review
    assert client.get(f"/public/reports/{review.id}").status_code == 404
    assert "Kenya" not in client.get("/public/").get_data(as_text=True)
    assert "police complaints" not in client.get("/public/recommendations").get_data(as_text=True)
    assert "Kenya" not in client.get("/public/recommendations.csv").get_data(as_text=True)
    assert "Civilian oversight" not in client.get("/public/good-practices").get_data(as_text=True)


def test_focal_point_consents_and_the_change_is_recorded(app, db, kenya, login_as, client):
    review, fp = kenya.review, kenya.identities["focal_point"]
    login_as(fp)
    page = client.get(f"/reviews/{review.id}/publication")
    assert page.status_code == 200
    assert "No decision yet" in page.get_data(as_text=True)
    assert _consent(client, review, "summary").status_code == 302
    assert _consent(client, review, "full").status_code == 302
    rows = db.session.scalars(
        select(PublicationConsent).where(PublicationConsent.review_id == review.id)
    ).all()
    assert [(r.level.value, r.author_id) for r in rows] == [("summary", fp.id), ("full", fp.id)]
    assert all(r.created_at is not None for r in rows)
    # the secretariat sees the decision and who took it, but cannot change it
    sec = login_as(kenya.identities["secretariat"], on=app.test_client())
    shown = sec.get(f"/reviews/{review.id}/publication").get_data(as_text=True)
    assert fp.display_name in shown and "The full report" in shown
    assert _consent(sec, review, "none").status_code == 403


def test_full_consent_shows_the_full_report_but_no_evaluation(app, kenya, login_as):
    review = kenya.review
    _consent(login_as(kenya.identities["focal_point"], on=app.test_client()), review, "full")
    page = app.test_client().get(f"/public/reports/{review.id}").get_data(as_text=True)
    assert "Executive summary" in page
    assert "Findings SEC" in page  # the report's findings of section 2
    assert "Consensus rating" in page
    assert "Civilian oversight board" in page
    assert "Establish an independent police complaints authority." in page
    assert "Supported" in page and "Agreed." in page  # the response
    assert "Implemented" in page  # latest assessment
    assert "A correction." in page  # the state's factual comment, appended
    # never an official's name, never an assessment note or an individual evaluation
    for hidden in (
        kenya.identities["focal_point"].display_name,
        kenya.identities["lead_reviewer"].display_name,
        "Summary",  # the reviewers' evaluation summaries
        "Done",  # the secretariat's assessment note
    ):
        assert hidden not in page, hidden
    assert 'media="print"' in page and "css/print.css" in page


def test_summary_consent_shows_summary_and_recommendations_only(app, kenya, login_as):
    review = kenya.review
    _consent(login_as(kenya.identities["focal_point"], on=app.test_client()), review, "summary")
    client = app.test_client()
    page = client.get(f"/public/reports/{review.id}").get_data(as_text=True)
    assert "Executive summary" in page
    assert "Establish an independent police complaints authority." in page
    for hidden in (
        "Findings SEC",
        "Consensus rating",
        "Civilian oversight",
        "Agreed.",
        "A correction.",
    ):
        assert hidden not in page, hidden
    # the database lists the recommendation but not the response nor the status
    listing = client.get("/public/recommendations").get_data(as_text=True)
    assert "police complaints" in listing and "not published" in listing
    assert "police complaints" not in client.get(
        "/public/recommendations?response=supported"
    ).get_data(as_text=True)
    # good practices are published only with the full report
    assert "Civilian oversight" not in client.get("/public/good-practices").get_data(as_text=True)


def test_consent_withdrawn_to_nothing_unpublishes(app, kenya, login_as):
    review = kenya.review
    fp_client = login_as(kenya.identities["focal_point"], on=app.test_client())
    _consent(fp_client, review, "full")
    assert app.test_client().get(f"/public/reports/{review.id}").status_code == 200
    _consent(fp_client, review, "none")
    assert app.test_client().get(f"/public/reports/{review.id}").status_code == 404


@pytest.mark.parametrize(
    "status", [ReviewStatus.FACTUAL_CHECK, ReviewStatus.EVALUATION, ReviewStatus.WITHDRAWN]
)
def test_unadopted_or_withdrawn_review_is_never_public(app, db, kenya, status):
    review = kenya.review
    # a consent stored earlier must not publish a review that is not (or no longer) adopted
    db.session.add(
        PublicationConsent(
            review_id=review.id, level="full", author_id=kenya.identities["focal_point"].id
        )
    )
    review.status = status
    if status != ReviewStatus.WITHDRAWN:
        db.session.scalar(select(Report).where(Report.review_id == review.id)).adopted_at = None
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/public/reports/{review.id}").status_code == 404
    assert "police complaints" not in client.get("/public/recommendations").get_data(as_text=True)
    assert "Kenya" not in client.get("/public/recommendations.csv").get_data(as_text=True)


def test_consent_refused_before_adoption(app, db, make, login_as):
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.FACTUAL_CHECK
    db.session.commit()
    client = login_as(prepared.identities["focal_point"], on=app.test_client())
    assert client.get(f"/reviews/{prepared.review.id}/publication").status_code == 404
    assert _consent(client, prepared.review, "full").status_code == 404
    assert db.session.scalar(select(PublicationConsent)) is None


@pytest.mark.parametrize("identity", ["other_focal_point", "lead_reviewer", "unassigned_reviewer"])
def test_only_the_states_focal_point_sets_consent(app, db, kenya, login_as, identity):
    client = login_as(kenya.identities[identity], on=app.test_client())
    assert _consent(client, kenya.review, "full").status_code in (403, 404)
    assert db.session.scalar(select(PublicationConsent)) is None


def test_consent_form_refuses_an_unknown_level(app, db, kenya, login_as):
    client = login_as(kenya.identities["focal_point"], on=app.test_client())
    response = _consent(client, kenya.review, "everything")
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(PublicationConsent)) is None


def _second_state(make, db, kenya, level):
    """Ghana's review in the same cycle, adopted, with one recommendation whose text starts with
    a formula, not implemented; consent ``level``."""
    review = make.review("GHA", kenya.review.cycle)
    report = Report(review_id=review.id, executive_summary="Ghana summary")
    db.session.add(report)
    section = review.cycle.framework.sections[3]
    rec = Recommendation(
        review_id=review.id,
        section_id=section.id,
        text='=HYPERLINK("http://x") Strengthen the judiciary.',
        priority=Priority.LOW,
        action_category=3,
        addressee=Addressee.STATE,
    )
    db.session.add(rec)
    db.session.flush()
    db.session.add(
        Assessment(
            recommendation_id=rec.id,
            status=AssessmentStatus.NOT_IMPLEMENTED,
            author_id=kenya.identities["secretariat"].id,
        )
    )
    db.session.add(
        PublicationConsent(
            review_id=review.id, level=level, author_id=kenya.identities["other_focal_point"].id
        )
    )
    review.status = ReviewStatus.FOLLOW_UP
    report.adopted_at = clock.now()
    db.session.commit()
    return review


def _csv(client, query=""):
    response = client.get(f"/public/recommendations.csv{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_recommendations_database_filters_and_csv_obey_them(app, db, make, kenya, login_as):
    _consent(login_as(kenya.identities["focal_point"], on=app.test_client()), kenya.review, "full")
    _second_state(make, db, kenya, "full")
    client = app.test_client()
    assert len(_csv(client)) == 3  # header + Kenya + Ghana
    page = client.get("/public/recommendations?state=GHA").get_data(as_text=True)
    assert "Strengthen the judiciary" in page and "police complaints" not in page
    assert "1 recommendation found" in page
    rows = _csv(client, "?state=GHA")
    assert [r[0] for r in rows[1:]] == ["Ghana"]
    # formula-injection-safe cells
    assert rows[1][5].startswith("'=HYPERLINK")
    assert [r[0] for r in _csv(client, "?group=African+Group&status=implemented")[1:]] == ["Kenya"]
    assert [r[0] for r in _csv(client, "?status=not_implemented")[1:]] == ["Ghana"]
    assert [r[0] for r in _csv(client, "?response=supported")[1:]] == ["Kenya"]
    assert [r[0] for r in _csv(client, "?category=3")[1:]] == ["Ghana"]
    assert [r[0] for r in _csv(client, "?q=police+complaints")[1:]] == ["Kenya"]
    assert [
        r[0] for r in _csv(client, "?section=" + kenya.review.cycle.framework.sections[1].code)[1:]
    ] == ["Kenya"]
    # a search for "%" or "_" is literal, not a wildcard matching everything
    assert _csv(client, "?q=%25")[1:] == [] and _csv(client, "?q=_")[1:] == []
    # an unknown filter value is named and ignored, never a 500
    bad = client.get("/public/recommendations?category=9&state=ZZZ&page=abc")
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "The action category is 1 to 5." in text and "Unknown state code." in text


def test_csv_download_shows_no_response_of_a_summary_consent(app, db, make, kenya, login_as):
    _second_state(make, db, kenya, "summary")
    client = app.test_client()
    rows = _csv(client)
    assert [r[0] for r in rows[1:]] == ["Ghana"]  # Kenya never consented
    assert rows[1][7] == "" and rows[1][8] == ""  # response, status not published
    assert _csv(client, "?status=not_implemented")[1:] == []


def test_recommendations_database_paginates(app, db, make, kenya, login_as):
    _consent(login_as(kenya.identities["focal_point"], on=app.test_client()), kenya.review, "full")
    section = kenya.review.cycle.framework.sections[2]
    for n in range(30):
        db.session.add(
            Recommendation(
                review_id=kenya.review.id,
                section_id=section.id,
                text=f"Extra recommendation number {n:02d}.",
                priority=Priority.LOW,
                action_category=2,
                addressee=Addressee.STATE,
            )
        )
    db.session.commit()
    client = app.test_client()
    first = client.get("/public/recommendations").get_data(as_text=True)
    assert "31 recommendations found" in first and "Page 1 of 2" in first
    second = client.get("/public/recommendations?page=2").get_data(as_text=True)
    assert second.count("Extra recommendation number") == 6
    assert len(_csv(client)) == 32  # the CSV has every page


def test_good_practice_library_filters_by_section_and_group(app, db, kenya, login_as):
    _consent(login_as(kenya.identities["focal_point"], on=app.test_client()), kenya.review, "full")
    client = app.test_client()
    code = kenya.review.cycle.framework.sections[1].code
    other = kenya.review.cycle.framework.sections[4].code
    assert "Civilian oversight" in client.get("/public/good-practices").get_data(as_text=True)
    assert "Civilian oversight" in client.get(f"/public/good-practices?section={code}").get_data(
        as_text=True
    )
    assert "Civilian oversight" not in client.get(
        f"/public/good-practices?section={other}"
    ).get_data(as_text=True)
    assert "Civilian oversight" not in client.get("/public/good-practices?group=WEOG").get_data(
        as_text=True
    )
    assert "Civilian oversight" in client.get(
        "/public/good-practices?group=African+Group&q=hearings"
    ).get_data(as_text=True)


def test_login_page_links_the_public_pages(client):
    page = client.get("/login").get_data(as_text=True)
    for link in ("/public/", "/public/recommendations", "/public/good-practices"):
        assert f'href="{link}"' in page


def test_demo_publishes_one_review_in_full_and_one_in_summary(app, runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    index = client.get("/public/").get_data(as_text=True)
    assert "Indonesia" in index and "Norway" in index
    for absent in ("Kenya", "Costa Rica", "Poland"):
        assert absent not in index
    assert "Indonesia" in client.get("/public/good-practices").get_data(as_text=True)


def _publish_states(make, db, cycle, codes, author):
    section = cycle.framework.sections[2]
    for code in codes:
        review = make.review(code, cycle)
        report = Report(review_id=review.id, executive_summary=f"Summary of {code}")
        db.session.add(report)
        db.session.flush()
        db.session.add(
            ReportSection(
                report_id=report.id, section_id=section.id, good_practices=f"Practice {code}"
            )
        )
        for n in range(3):
            db.session.add(
                Recommendation(
                    review_id=review.id,
                    section_id=section.id,
                    text=f"Recommendation {n} for {code}.",
                    priority=Priority.LOW,
                    action_category=4,
                    addressee=Addressee.STATE,
                )
            )
        db.session.add(PublicationConsent(review_id=review.id, level="full", author_id=author.id))
        review.status = ReviewStatus.FOLLOW_UP
        report.adopted_at = clock.now()
    db.session.commit()


def test_public_pages_run_as_many_queries_for_2_or_8_published_reviews(app, db, make):
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    author = make.focal_point("KEN")
    cycle = make.cycle()
    urls = ["/public/", "/public/recommendations", "/public/good-practices"]
    counts = []
    for codes in (["KEN", "GHA"], ["NGA", "SEN", "FRA", "BRA", "IND", "NOR"]):
        _publish_states(make, db, cycle, codes, author)
        client = app.test_client()
        measured = []
        for url in urls:
            with counting() as statements:
                assert client.get(url).status_code == 200
            measured.append(len(statements))
        counts.append(measured)
    assert counts[0] == counts[1], counts
