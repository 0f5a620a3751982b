"""Workflow diagrams: drawn from the same definitions that run the workflows (DESIGN §4)."""

from __future__ import annotations

import re

import pytest

from tests.factories import prepared_review
from workflows import ASSIGNMENT, CYCLE, REVIEW, ReviewStatus

MACHINES = (REVIEW, ASSIGNMENT, CYCLE)


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_mermaid_source_has_every_status_and_every_transition_of_the_definitions(machine):
    source = machine.mermaid()
    assert source.startswith("stateDiagram-v2\n")
    for status in machine.statuses:
        assert f" as {status.value}\n" in source
    edges = re.findall(r"^  (\w+) --> (\w+) : (.+)$", source, flags=re.MULTILINE)
    expected = {
        (source_, spec.dest or source_, spec.label)
        for spec in machine.specs
        for source_ in spec.sources
    }
    assert set(edges) == expected
    assert "class " not in source  # nothing marked without a current status


def test_current_status_is_marked_and_labels_cannot_break_the_syntax():
    source = REVIEW.mermaid("factual_check", translate=lambda s: f'{s}: "x";')
    assert source.rstrip().endswith("class factual_check current")
    for line in source.splitlines()[2:]:
        label = line.split(" : ", 1)[1] if " : " in line else ""
        assert ":" not in label and ";" not in label


def test_the_workflows_page_draws_every_event_of_every_machine(db, make, login_as, client):
    login_as(make.secretariat())
    response = client.get("/admin/workflows")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('<pre class="mermaid"') == len(MACHINES)
    for machine in MACHINES:
        for spec in machine.specs:
            assert f'<code class="small text-muted">{spec.event}</code>' in page, spec.event
            assert f"--&gt; {spec.dest or spec.sources[0]} : " in page
    assert "vendor/mermaid/mermaid.min.js" in page and "js/diagrams.js" in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert 'href="/admin/workflows"' in page  # in the secretariat's navigation


def test_other_pages_keep_the_strict_style_policy(db, make, login_as, client):
    login_as(make.secretariat())
    policy = client.get("/home").headers["Content-Security-Policy"]
    assert "style-src 'self';" in policy and "unsafe-inline" not in policy


@pytest.mark.parametrize("identity", ["focal_point", "lead_reviewer", "unassigned_reviewer"])
def test_only_the_secretariat_sees_the_workflows_page(app, db, make, login_as, identity):
    prepared = prepared_review(make)
    client = login_as(prepared.identities[identity], on=app.test_client())
    assert client.get("/admin/workflows").status_code == 403
    assert 'href="/admin/workflows"' not in client.get("/home").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(app):
    response = app.test_client().get("/admin/workflows")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("status", [ReviewStatus.SCREENING, ReviewStatus.FOLLOW_UP])
@pytest.mark.parametrize("identity", ["secretariat"])
def test_the_review_page_draws_its_machine_with_the_current_status_marked(
    app, db, make, login_as, status, identity
):
    prepared = prepared_review(make)
    prepared.review.status = status
    db.session.commit()
    client = login_as(prepared.identities[identity], on=app.test_client())
    response = client.get(f"/reviews/{prepared.review.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"class {status.value} current" in page
    assert page.count("class ") and "current\n" in page
    for other in ReviewStatus:
        if other != status:
            assert f"class {other.value} current" not in page
    # the text version lists the steps possible from the current status, and no other
    for spec in REVIEW.specs:
        shown = f'<code class="small text-muted">{spec.event}</code>' in page
        assert shown == (status in spec.sources), spec.event


@pytest.mark.parametrize("status", [ReviewStatus.SCREENING, ReviewStatus.FOLLOW_UP])
@pytest.mark.parametrize("identity", ["focal_point", "lead_reviewer"])
def test_focal_points_and_reviewers_get_plain_words_not_the_engines_table(
    app, db, make, login_as, status, identity
):
    """Issue 16, item 3: the diagram and the table of events and guards are the secretariat's;
    the state and the reviewers read one "What happens next" box instead."""
    prepared = prepared_review(make)
    prepared.review.status = status
    db.session.commit()
    client = login_as(prepared.identities[identity], on=app.test_client())
    page = client.get(f"/reviews/{prepared.review.id}").get_data(as_text=True)
    assert f"class {status.value} current" not in page
    for spec in REVIEW.specs:
        assert f'<code class="small text-muted">{spec.event}</code>' not in page, spec.event
    if identity == "focal_point":
        assert "What happens next" in page


@pytest.mark.parametrize("identity", ["other_focal_point", "unassigned_reviewer"])
def test_outsiders_see_no_review_diagram(app, db, make, login_as, identity):
    prepared = prepared_review(make)
    client = login_as(prepared.identities[identity], on=app.test_client())
    response = client.get(f"/reviews/{prepared.review.id}")
    assert response.status_code == 404
    assert "stateDiagram" not in response.get_data(as_text=True)
