"""Walk every route of the app as outsiders of a review: nothing of Kenya's review may leak.

Every URL rule is called with the ids of Kenya's review (its assignment, cycle, recommendation…)
by GET and POST as a focal point of Ghana and as a reviewer not on the team. Any success fails
the test; a route with a parameter nobody classified below fails it too, so new routes must be
looked at.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Assignment, Draw, Recommendation
from tests.factories import prepared_review
from workflows import ReviewStatus

#: Routes anyone signed in may use, whatever their state (no review data behind them).
PUBLIC_TO_SIGNED_IN = {
    "static",
    "main.index",
    "main.home",
    "main.states",
    "auth.login",
    "auth.logout",
}
#: Public pages, without sign-in (issue 5): they read only published reviews (report adopted and
#: consented). `test_public_pages_show_nothing_unconsented` walks them instead.
PUBLIC = {
    "public.index",
    "public.report",
    "public.midterm",
    "public.recommendations",
    "public.recommendations_csv",
    "public.good_practices",
}
REFUSED = {403, 404, 405}
#: Routes anyone signed in may use whose rows are filtered by who-sees-what (DESIGN §5): the walk
#: checks that no text of Kenya's review appears in what outsiders get.
FILTERED_TO_SIGNED_IN = {
    "recommendations.index",
    "recommendations.export_csv",
    "recommendations.export_xlsx",
}
SECRET = "independent police complaints authority"


def _leaks(response) -> bool:
    """Whether Kenya's recommendation text is in the response (an XLSX is unpacked)."""
    body = response.get_data()
    if body[:2] == b"PK":
        import io

        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body)).active
        body = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row).encode()
    return SECRET.encode() in body


def _values(rule, prepared, db):
    review = prepared.review
    assignment = db.session.scalar(select(Assignment).where(Assignment.review_id == review.id))
    recommendation = db.session.scalar(
        select(Recommendation).where(Recommendation.review_id == review.id)
    )
    known = {
        "review_id": review.id,
        "assignment_id": assignment.id,
        "cycle_id": review.cycle_id,
        "number": 2,
        "recommendation_id": recommendation.id,
        "user_id": prepared.identities["focal_point"].id,
        "section_id": review.cycle.framework.sections[1].id,
        "draw_id": db.session.scalar(select(Draw.id).where(Draw.review_id == review.id)) or 1,
        "version": 1,
        "state_id": review.state_id,
        "stage": "factual_check",
    }
    values = {}
    for argument in rule.arguments:
        if argument == "event":
            values[argument] = {
                "reviews.fire": "withdraw",
                "evaluation.fire": "withdraw_assignment",
                "admin.cycle_fire": "close_cycle",
            }.get(rule.endpoint, "withdraw")
        elif argument in known:
            values[argument] = known[argument]
        else:
            pytest.fail(f"route {rule.rule} has parameter {argument!r} nobody classified")
    return values


@pytest.mark.parametrize(
    "status", [ReviewStatus.SELF_ASSESSMENT, ReviewStatus.FACTUAL_CHECK, ReviewStatus.FOLLOW_UP]
)
@pytest.mark.parametrize("identity", ["other_focal_point", "unassigned_reviewer"])
def test_outsiders_get_nothing_of_another_states_review(app, db, make, login_as, status, identity):
    prepared = prepared_review(make)
    prepared.review.status = status
    db.session.commit()
    client = app.test_client()
    login_as(prepared.identities[identity], on=client)
    tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_TO_SIGNED_IN | PUBLIC:
            continue
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
        if rule.endpoint in FILTERED_TO_SIGNED_IN:
            response = client.get(url)
            assert response.status_code == 200 and not _leaks(response), (identity, url)
            tried += 1
            continue
        for method in ("GET", "POST"):
            response = client.open(url, method=method, data={"reason": "x"})
            tried += 1
            assert response.status_code in REFUSED, (
                f"{identity} got {response.status_code} on {method} {url} ({rule.endpoint})"
            )
    db.session.expire_all()
    assert prepared.review.status == status
    assert tried > 10


#: What a reviewer on the review but not on the team may still reach (DESIGN §5): an invited one,
#: the review's summary page (state, cycle, deadlines) to decide; a withdrawn one, nothing.
ON_REVIEW_BUT_NOT_TEAM = {
    "invited": {("GET", "reviews.show")},
    "withdrawn": set(),
    "declined": set(),
    "conflicted": set(),
}


@pytest.mark.parametrize("status", [ReviewStatus.PEER_ASSIGNMENT, ReviewStatus.EVALUATION])
@pytest.mark.parametrize("assignment_status", list(ON_REVIEW_BUT_NOT_TEAM))
def test_reviewers_off_the_team_see_only_what_design_allows(
    app, db, make, login_as, status, assignment_status
):
    from workflows import AssignmentStatus

    prepared = prepared_review(make)
    prepared.review.status = status
    db.session.commit()
    outsider = prepared.identities["unassigned_reviewer"]
    own = make.assignment(
        prepared.review,
        outsider,
        status=AssignmentStatus(assignment_status),
        actor=prepared.identities["secretariat"],
    )
    client = login_as(outsider, on=app.test_client())
    allowed = ON_REVIEW_BUT_NOT_TEAM[assignment_status]
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_TO_SIGNED_IN | PUBLIC:
            continue
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
        if rule.endpoint in FILTERED_TO_SIGNED_IN:
            response = client.get(url)
            assert response.status_code == 200 and not _leaks(response), (assignment_status, url)
            continue
        for method in ("GET", "POST"):
            response = client.open(url, method=method, data={"reason": "x"})
            if (method, rule.endpoint) in allowed:
                assert response.status_code == 200, (method, url)
            else:
                assert response.status_code in REFUSED, (
                    f"{assignment_status} reviewer got {response.status_code} on {method} {url}"
                )
    summary = client.get(f"/reviews/{prepared.review.id}")
    if assignment_status == "invited":
        page = summary.get_data(as_text=True)
        assert "Kenya" in page and "Deadlines" in page
        for hidden in ("/self-assessment", "/report", "Review team", "History"):
            assert hidden not in page, hidden
        assert client.get(f"/assignments/{own.id}").status_code == 200
    else:
        assert client.get(f"/assignments/{own.id}").status_code == 404


@pytest.mark.parametrize("identity", [None, "other_focal_point", "unassigned_reviewer"])
@pytest.mark.parametrize("status", [ReviewStatus.FACTUAL_CHECK, ReviewStatus.FOLLOW_UP])
def test_public_pages_show_nothing_unconsented(app, db, make, login_as, status, identity):
    """Kenya's review, adopted or not but never consented to publication: every public route
    (anonymous or signed in) answers 404 on its own pages, 405 to a POST, and lists nothing of
    it (report text, recommendation, good practice, mid-term report)."""
    from app.models import MidtermReport, Report

    prepared = prepared_review(make)
    review = prepared.review
    review.status = status
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    report.adopted_at = review.created_at if status == ReviewStatus.FOLLOW_UP else None
    report.executive_summary = "Secret executive summary."
    report.sections[1].good_practices = "Secret good practice."
    db.session.add(
        MidtermReport(
            review_id=review.id,
            version=1,
            content={"sections": [], "recommendations": [], "totals": {}},
            created_by_id=prepared.identities["secretariat"].id,
            published_at=review.created_at,
        )
    )
    db.session.commit()
    client = app.test_client()
    if identity:
        login_as(prepared.identities[identity], on=client)
    walked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in PUBLIC:
            continue
        walked.add(rule.endpoint)
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
        assert client.post(url).status_code in REFUSED, url
        response = client.get(url)
        if rule.arguments:
            assert response.status_code == 404, url
            continue
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        for secret in ("Kenya", "Secret executive", "police complaints", "Secret good"):
            assert secret not in page, (url, secret)
    assert walked == PUBLIC
