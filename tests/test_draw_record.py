"""The draw record and its check (DESIGN §6; issue 16, item 1): every draw of a review is listed
with its seed, rules, reason and outcome; a draw is recomputed from its record, on a page the
reviewed state's focal points reach (reviewers shown as numbered candidates, never by name) and
with `flask --app wsgi cycle verify-draw N`; a tampered record does not match."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Draw
from tests.test_draws import draw_and_confirm, only_kenya_and_ghana_open, open_draw, world

__all__ = ["world"]  # the fixture, shared with the draw tests


@pytest.fixture
def drawn(client, login_as, world, db, make):
    """Kenya and Ghana drawn once (set aside, with a reason), then again and confirmed."""
    only_kenya_and_ghana_open(world, db, make)
    login_as(world["secretariat"])
    open_draw(client, world["cycle"], seed=21)
    draw_and_confirm(client, world["cycle"], reason="The lead seat went to a late nominee.")
    db.session.expire_all()
    kenya = world["reviews"]["KEN"]
    draws = db.session.scalars(
        select(Draw).where(Draw.review_id == kenya.id).order_by(Draw.id)
    ).all()
    assert [d.status for d in draws] == ["set_aside", "confirmed"]
    return draws


def test_cli_verify_draw_says_the_recorded_team_matches_and_catches_a_tampered_one(
    runner, drawn, db
):
    for draw in drawn:
        result = runner.invoke(args=["cycle", "verify-draw", str(draw.id)])
        assert result.exit_code == 0, result.output
        assert "The draw matches its record." in result.output
        assert f"seed {draw.seed}" in result.output
    confirmed = drawn[1]
    rows = [dict(row) for row in confirmed.result]
    rows[0]["reviewer_id"], rows[1]["reviewer_id"] = rows[1]["reviewer_id"], rows[0]["reviewer_id"]
    confirmed.result = rows  # the lead swapped by hand in the record
    db.session.commit()
    tampered = runner.invoke(args=["cycle", "verify-draw", str(confirmed.id)])
    assert tampered.exit_code == 1 and "does NOT match" in tampered.output
    missing = runner.invoke(args=["cycle", "verify-draw", "9999"])
    assert missing.exit_code == 1 and "No draw #9999" in missing.output


def test_the_reviewed_states_focal_point_checks_every_draw_without_learning_a_name(
    client, login_as, world, drawn, make
):
    kenya = world["reviews"]["KEN"]
    focal_point = make.focal_point("KEN")
    login_as(focal_point)
    names = [r.display_name for r in world["reviewers"].values()]
    names.append(world["secretariat"].display_name)
    review_page = client.get(f"/reviews/{kenya.id}").get_data(as_text=True)
    assert f"/reviews/{kenya.id}/draws" in review_page
    record = client.get(f"/reviews/{kenya.id}/draws")
    text = record.get_data(as_text=True)
    assert record.status_code == 200
    for draw in drawn:
        assert f"Draw #{draw.id}" in text and f"<code>{draw.seed}</code>" in text
        assert f"/draws/{draw.id}/verify" in text
    assert "set aside" in text and "late nominee" in text and "Candidate " in text
    for draw in drawn:
        page = client.get(f"/draws/{draw.id}/verify")
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "The draw matches." in body
        assert "WEOG" in body and 'id="draw-pool"' in body  # states and groups: announced
        for name in names:
            assert name not in body, name
    for name in names:
        assert name not in text, name


@pytest.mark.parametrize("who", ["other_focal_point", "reviewer"])
def test_the_draw_record_is_refused_to_everyone_else(client, login_as, world, drawn, make, who):
    kenya = world["reviews"]["KEN"]
    user = make.focal_point("GHA") if who == "other_focal_point" else world["reviewers"]["NOR"]
    login_as(user)
    assert client.get(f"/reviews/{kenya.id}/draws").status_code == 403
    assert client.get(f"/draws/{drawn[1].id}/verify").status_code == 403


def test_a_draw_stored_before_draws_kept_their_inputs_says_it_cannot_be_checked(
    client, login_as, world, drawn, db, runner
):
    old = drawn[0]
    old.pool = {k: v for k, v in old.pool.items() if k != "inputs"}
    db.session.commit()
    page = client.get(f"/draws/{old.id}/verify").get_data(as_text=True)
    assert "cannot be checked here" in page
    result = runner.invoke(args=["cycle", "verify-draw", str(old.id)])
    assert result.exit_code == 1 and "cannot be recomputed" in result.output


def test_the_secretariat_sees_the_verdict_on_the_draw_page(client, drawn):
    page = client.get(f"/admin/draws/{drawn[1].id}").get_data(as_text=True)
    assert "Recomputed from its record: the same team." in page
    assert "late nominee" in page
