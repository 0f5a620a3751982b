"""Walk every route of the app as outsiders of a review: nothing of Kenya's review may leak.

Every URL rule is called with the ids of Kenya's review (its assignment, cycle, recommendation…)
by GET and POST as a focal point of Ghana and as a reviewer not on the team. Any success fails
the test; a route with a parameter nobody classified below fails it too, so new routes must be
looked at.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Assignment, Recommendation
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
REFUSED = {403, 404, 405}


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
        if rule.endpoint in PUBLIC_TO_SIGNED_IN:
            continue
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
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
        if rule.endpoint in PUBLIC_TO_SIGNED_IN:
            continue
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
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
