"""DESIGN §5 from the wrong side: what an invited reviewer, a co-reviewer who has not submitted,
a withdrawn reviewer and another state's people must not learn about a review's evaluations."""

from __future__ import annotations

import pytest

from tests.test_evaluation import submit_evaluation_directly
from workflows import AssignmentStatus

A = AssignmentStatus


def test_coreviewer_does_not_learn_who_submitted_before_submitting_own(client, team, login_as, db):
    submit_evaluation_directly(db, team["lead_a"], team["lead"])
    login_as(team["member"])
    page = client.get(f"/reviews/{team['review'].id}").get_data(as_text=True)
    assert "Evaluation submitted" not in page and "On the team" in page
    assert client.get(f"/reviews/{team['review'].id}/report").status_code == 404
    assert client.get(f"/assignments/{team['lead_a'].id}/evaluation/view").status_code == 404

    submit_evaluation_directly(db, team["member_a"], team["member"])
    page = client.get(f"/reviews/{team['review'].id}").get_data(as_text=True)
    assert "Evaluation submitted" in page and "On the team" not in page
    assert client.get(f"/reviews/{team['review'].id}/report").status_code == 200


def test_lead_sees_who_submitted_before_submitting_own(client, team, login_as, db):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    login_as(team["lead"])
    page = client.get(f"/reviews/{team['review'].id}").get_data(as_text=True)
    assert "Evaluation submitted" in page and "On the team" not in page


def test_invited_reviewer_sees_no_team_and_nothing_derived_from_evaluations(
    client, team, make, login_as, db
):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    invited = make.reviewer("JPN")
    make.assignment(team["review"], invited, actor=team["secretariat"])
    login_as(invited)
    page = client.get(f"/reviews/{team['review'].id}").get_data(as_text=True)
    assert team["review"].state.name in page and team["review"].cycle.name in page
    for hidden in (team["member"].display_name, team["lead"].display_name, "Evaluation submitted"):
        assert hidden not in page
    for url in (
        f"/reviews/{team['review'].id}/self-assessment",
        f"/reviews/{team['review'].id}/report",
        f"/assignments/{team['member_a'].id}/evaluation/view",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("status", [A.WITHDRAWN, A.DECLINED, A.CONFLICTED])
def test_reviewer_off_the_team_loses_everything_even_after_submitting(
    client, team, login_as, db, status
):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    team["member_a"].status = status  # e.g. withdrawn by the secretariat afterwards
    db.session.commit()
    login_as(team["member"])
    for url in (
        f"/reviews/{team['review'].id}",
        f"/reviews/{team['review'].id}/self-assessment",
        f"/reviews/{team['review'].id}/report",
        f"/assignments/{team['member_a'].id}",
        f"/assignments/{team['member_a'].id}/evaluation/view",
        f"/assignments/{team['lead_a'].id}/evaluation/view",
    ):
        assert client.get(url).status_code == 404, url
    assert team["review"].state.name not in client.get("/home").get_data(as_text=True)


def test_other_states_focal_point_and_reviewer_get_nothing(client, team, make, login_as, db):
    submit_evaluation_directly(db, team["member_a"], team["member"])
    for user in (make.focal_point("UGA"), make.reviewer("UGA")):
        login_as(user)
        for url in (
            f"/reviews/{team['review'].id}",
            f"/reviews/{team['review'].id}/report",
            f"/assignments/{team['member_a'].id}/evaluation/view",
        ):
            assert client.get(url).status_code == 404, (user.role, url)
