"""Recommendations list and its CSV / XLSX exports (issue 5): filters, who sees what, safety."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app.models import Addressee, Priority, Recommendation, Response, ResponsePosition
from tests.factories import prepared_review
from workflows import ReviewStatus

KENYA = "Establish an independent police complaints authority."


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def two_states(db, make):
    """Kenya's prepared review in follow-up, and Ghana's in another cycle with a recommendation
    that starts with "=" (a formula if a spreadsheet believed it)."""
    kenya = prepared_review(make)
    kenya.review.status = ReviewStatus.FOLLOW_UP
    ghana = make.review("GHA", cycle=make.cycle("2028 cycle"))
    ghana.status = ReviewStatus.FOLLOW_UP
    sections = ghana.cycle.framework.sections
    rec = Recommendation(
        review_id=ghana.id,
        section_id=sections[0].id,
        text='=HYPERLINK("http://evil.example","Ghana")',
        priority=Priority.MEDIUM,
        action_category=3,
        addressee=Addressee.STATE,
    )
    db.session.add(rec)
    db.session.flush()
    db.session.add(
        Response(
            recommendation_id=rec.id,
            position=ResponsePosition.NOTED,
            explanation="+1 vote",
            planned_action="Line one\x0bline two",  # a vertical tab pasted from a word processor
        )
    )
    db.session.commit()
    return kenya, ghana


def test_secretariat_exports_everything_filtered_like_the_screen(client, login_as, two_states):
    kenya, _ghana = two_states
    login_as(kenya.identities["secretariat"])
    rows = csv_rows(client.get("/recommendations/export.csv"))
    assert {r["State code"] for r in rows} == {"KEN", "GHA"}
    ken = next(r for r in rows if r["State code"] == "KEN")
    assert ken["Recommendation"] == KENYA
    assert ken["Response"] == "supported" and ken["Latest assessment"] == "implemented"
    assert ken["Action category (UPR Info 1-5)"] == "5"
    for query, expected in (
        ({"state": "GHA"}, {"GHA"}),
        ({"response": "supported"}, {"KEN"}),
        ({"response": "noted"}, {"GHA"}),
        ({"action_category": "3"}, {"GHA"}),
        ({"status": "implemented"}, {"KEN"}),
        ({"status": "not_assessed"}, {"GHA"}),
        ({"section": kenya.review.cycle.framework.sections[1].code}, {"KEN"}),
        ({"response": "none"}, set()),
        ({"cycle": str(kenya.review.cycle_id)}, {"KEN"}),
        ({"cycle": "not-a-number", "action_category": "9"}, {"KEN", "GHA"}),
    ):
        got = {
            r["State code"]
            for r in csv_rows(client.get("/recommendations/export.csv", query_string=query))
        }
        assert got == expected, query
    page = client.get("/recommendations", query_string={"state": "KEN"}).get_data(as_text=True)
    assert KENYA in page and "HYPERLINK" not in page
    assert "/recommendations/export.xlsx?state=KEN" in page
    sheet = xlsx_rows(client.get("/recommendations/export.xlsx", query_string={"state": "KEN"}))
    assert sheet[0][0] == "Cycle" and len(sheet) == 2 and sheet[1][4] == KENYA


def test_exports_neutralise_spreadsheet_formulas(client, login_as, two_states):
    kenya, _ghana = two_states
    login_as(kenya.identities["secretariat"])
    ghana = csv_rows(client.get("/recommendations/export.csv", query_string={"state": "GHA"}))[0]
    assert ghana["Recommendation"].startswith("'=HYPERLINK")
    assert ghana["Explanation"] == "'+1 vote"
    sheet = xlsx_rows(client.get("/recommendations/export.xlsx", query_string={"state": "GHA"}))
    assert sheet[1][4].startswith("'=HYPERLINK") and sheet[1][10] == "'+1 vote"
    assert sheet[1][11] == "Line oneline two"
    workbook = load_workbook(
        io.BytesIO(client.get("/recommendations/export.xlsx").get_data())
    ).active
    assert all(cell.data_type != "f" for row in workbook.iter_rows() for cell in row)


def test_focal_point_gets_only_its_own_state_and_only_from_factual_check(
    db, client, login_as, two_states
):
    kenya, _ghana = two_states
    login_as(kenya.identities["focal_point"])
    rows = csv_rows(client.get("/recommendations/export.csv"))
    assert [r["State code"] for r in rows] == ["KEN"]
    # asking for another state's rows gives nothing, not Ghana's
    assert csv_rows(client.get("/recommendations/export.csv", query_string={"state": "GHA"})) == []
    assert (
        len(xlsx_rows(client.get("/recommendations/export.xlsx", query_string={"state": "GHA"})))
        == 1
    )
    # before the draft report reaches factual check, the state does not see it on screen
    kenya.review.status = ReviewStatus.EVALUATION
    db.session.commit()
    assert csv_rows(client.get("/recommendations/export.csv")) == []
    assert KENYA not in client.get("/recommendations").get_data(as_text=True)
    assert client.get(f"/reviews/{kenya.review.id}/report").status_code == 404


def test_reviewers_get_only_reviews_whose_report_they_may_read(
    db, make, client, login_as, two_states
):
    kenya, _ghana = two_states
    for identity in ("lead_reviewer", "member_reviewer"):
        login_as(kenya.identities[identity])
        assert [r["State code"] for r in csv_rows(client.get("/recommendations/export.csv"))] == [
            "KEN"
        ]
    login_as(kenya.identities["unassigned_reviewer"])
    assert csv_rows(client.get("/recommendations/export.csv")) == []
    kenya.review.status = ReviewStatus.WITHDRAWN
    db.session.commit()
    login_as(kenya.identities["lead_reviewer"])
    assert csv_rows(client.get("/recommendations/export.csv")) == []


def test_the_access_walk_would_see_a_leak(client, login_as, two_states):
    """The walk's leak check (tests/test_access_walk.py) finds Kenya's text when it is there."""
    from tests.test_access_walk import _leaks

    kenya, _ghana = two_states
    login_as(kenya.identities["secretariat"])
    for url in ("/recommendations", "/recommendations/export.csv", "/recommendations/export.xlsx"):
        assert _leaks(client.get(url)), url


def test_anonymous_visitors_are_sent_to_sign_in(app):
    client = app.test_client()
    for url in ("/recommendations", "/recommendations/export.csv", "/recommendations/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_and_exports_queries_do_not_grow_with_the_recommendations(
    app, db, make, login_as, two_states
):
    from tests.test_dashboard import QueryCounter

    kenya, ghana = two_states
    client = login_as(kenya.identities["secretariat"], on=app.test_client())

    def counts() -> list[int]:
        result = []
        for url in (
            "/recommendations",
            "/recommendations/export.csv",
            "/recommendations/export.xlsx",
        ):
            with QueryCounter(db.engine) as counter:
                assert client.get(url).status_code == 200
            result.append(counter.count)
        return result

    before = counts()
    section = ghana.cycle.framework.sections[2]
    for i in range(40):
        rec = Recommendation(
            review_id=ghana.id,
            section_id=section.id,
            text=f"More {i}",
            priority=Priority.LOW,
            action_category=2,
            addressee=Addressee.STATE,
        )
        db.session.add(rec)
        db.session.flush()
        db.session.add(Response(recommendation_id=rec.id, position=ResponsePosition.SUPPORTED))
    db.session.commit()
    assert counts() == before
    assert max(before) <= 10, before


@pytest.mark.parametrize("status", list(ReviewStatus))
def test_export_rows_follow_the_on_screen_report_rule_in_every_status(app, db, make, status):
    """`visible_recommendations_clause` (SQL) answers like ``report.view`` (Python) for every
    identity in every review status: exports never show what the screen would not."""
    from app import access
    from app.services import exports

    prepared = prepared_review(make)
    prepared.review.status = status
    db.session.commit()
    for identity, user in prepared.identities.items():
        with app.test_request_context():
            on_screen = access.can(user, "report.view", prepared.review)
            exported = exports.recommendation_rows(user, exports.Filters())
        assert bool(exported) == on_screen, (identity, status)
