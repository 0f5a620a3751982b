"""Draw by lot through the pages and the command line (DESIGN §6): a GET never draws; opening a
draw records its seed (who, when) before the teams are shown and every visit shows the same
teams; drawing again needs a reason and keeps the first draw; the confirmation invites the drawn
reviewers, a changed pool is refused, a dropped-out seat is re-drawn alone, the pool page, and
secretariat-only access."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import Assignment, Draw, TransitionLog
from workflows import AssignmentStatus, ReviewStatus

A = AssignmentStatus


@pytest.fixture
def world(make, db):
    """An open cycle (team size 2, default rules) with Kenya and Ghana in peer assignment and a
    pool of four reviewers of participating states from four regional groups."""
    secretariat = make.secretariat()
    cycle = make.cycle(team_size=2)
    reviews = {}
    for code in ("KEN", "GHA", "IDN", "POL", "BRA", "NOR"):
        reviews[code] = make.review(code, cycle)
    for code in ("IDN", "POL", "BRA", "NOR"):
        reviews[code].status = ReviewStatus.SELF_ASSESSMENT
    for code in ("KEN", "GHA"):
        reviews[code].status = ReviewStatus.PEER_ASSIGNMENT
    reviewers = {code: make.reviewer(code) for code in ("IDN", "POL", "BRA", "NOR")}
    outsider = make.reviewer("MEX")  # Mexico does not take part: not in the pool
    db.session.commit()
    return {
        "secretariat": secretariat,
        "cycle": cycle,
        "reviews": reviews,
        "reviewers": reviewers,
        "outsider": outsider,
    }


def only_kenya_and_ghana_open(world, db, make):
    """Fill the four other reviews' teams by hand so the cycle draw covers Kenya and Ghana."""
    # IDN, POL, BRA, NOR reviews keep open seats otherwise; close them by withdrawing the review
    for code in ("IDN", "POL", "BRA", "NOR"):
        world["reviews"][code].status = ReviewStatus.WITHDRAWN
    db.session.commit()


def seed_on(page: str) -> int:
    return int(re.search(r'id="draw-seed">(\d+)<', page).group(1))


def fingerprint_on(page: str) -> str:
    return re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"', page).group(1)


def confirm_data(page: str, **extra) -> dict:
    """The hidden fields of the confirm form on ``page`` (the open draw's page)."""
    form = re.search(r'action="[^"]*/draws/confirm".*?</form>', page, re.S)
    fields = dict(re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', form.group(0)))
    fields.update(extra)
    return fields


def open_draw(client, cycle, **fields) -> str:
    """Open a draw as the signed-in secretariat; the open draw's page."""
    data = {"scope": "cycle", **{k: str(v) for k, v in fields.items()}}
    response = client.post(f"/admin/cycles/{cycle.id}/draws/open", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def draw_and_confirm(client, cycle, **fields):
    page = open_draw(client, cycle, **fields)
    return client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=confirm_data(page))


def test_opening_records_the_seed_before_any_team_is_shown_and_every_visit_shows_the_same(
    client, login_as, world, db, make
):
    only_kenya_and_ghana_open(world, db, make)
    cycle = world["cycle"]
    login_as(world["secretariat"])
    names = [r.display_name for r in world["reviewers"].values()]
    before = client.get(f"/admin/cycles/{cycle.id}/draws/preview?scope=cycle&seed=11")
    text = before.get_data(as_text=True)
    assert before.status_code == 200 and "Open the draw" in text
    assert 'id="proposed-teams"' not in text and not any(name in text for name in names)
    assert db.session.scalar(select(func.count(Draw.id))) == 0  # a GET never draws

    text = open_draw(client, cycle, seed=11)
    opened = db.session.scalars(select(Draw).order_by(Draw.id)).all()
    assert [d.review.state.code for d in opened] == ["GHA", "KEN"]
    assert all(d.status == "open" and d.seed == 11 for d in opened)
    assert all(d.actor_id == world["secretariat"].id and d.created_at for d in opened)
    assert {d.batch for d in opened} == {opened[0].id}
    assert db.session.scalar(select(func.count(Assignment.id))) == 0  # nobody invited yet
    assert seed_on(text) == 11 and "Kenya" in text and "Ghana" in text
    table = re.search(r'id="proposed-teams".*?</table>', text, re.S).group(0)
    for _visit in range(3):  # every visit shows the recorded teams, whatever the scope asked
        again = client.get(f"/admin/cycles/{cycle.id}/draws/preview?scope=cycle")
        assert table in again.get_data(as_text=True)
    other = client.get(
        f"/admin/cycles/{cycle.id}/draws/preview?scope=review&review_id={world['reviews']['KEN'].id}"
    )
    assert table in other.get_data(as_text=True)

    # confirming asks first; without JavaScript through the confirmation page, to this URL
    assert f'name="_confirm_action" value="/admin/cycles/{cycle.id}/draws/confirm"' in text
    asked = client.post(
        "/confirm",
        data=confirm_data(
            text,
            _confirm_action=f"/admin/cycles/{cycle.id}/draws/confirm",
            _confirm_sentence=re.search(r'name="_confirm_sentence" value="([^"]*)"', text).group(1),
        ),
    )
    assert asked.status_code == 200 and "The reviewers drawn are invited" in asked.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    response = client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=confirm_data(text))
    assert response.status_code == 302
    db.session.expire_all()
    draws = db.session.scalars(select(Draw).order_by(Draw.id)).all()
    assert [d.id for d in draws] == [d.id for d in opened]  # the opened draws, now confirmed
    for draw in draws:
        assert draw.status == "confirmed" and draw.seed == 11 and draw.scope == "cycle"
        assert draw.closed_by_id == world["secretariat"].id
        assert draw.rules["max_per_reviewer"] == 2 and draw.rules["distinct_groups"] is True
        assert len(draw.pool["reviewers"]) == 4
        assert [row["lead"] for row in draw.result] == [True, False]
        assignments = [db.session.get(Assignment, row["assignment_id"]) for row in draw.result]
        assert all(a.status == A.INVITED and a.review_id == draw.review_id for a in assignments)
        assert [a.is_lead for a in assignments] == [True, False]
        assert draw.result[0]["name"] in table
        logs = db.session.scalars(
            select(TransitionLog).where(
                TransitionLog.subject_type == "assignment",
                TransitionLog.subject_id.in_([a.id for a in assignments]),
            )
        ).all()
        assert [log.payload["draw_id"] for log in logs] == [draw.id, draw.id]
    record = client.get(f"/admin/draws/{draws[0].id}").get_data(as_text=True)
    assert ">11<" in record and draws[0].result[0]["name"] in record and "WEOG" in record
    assert "the same team" in record


def test_drawing_again_needs_a_reason_and_keeps_the_first_draw_in_the_record(
    client, login_as, world, db, make
):
    only_kenya_and_ghana_open(world, db, make)
    cycle = world["cycle"]
    login_as(world["secretariat"])
    open_draw(client, cycle, seed=4)
    refused = client.post(
        f"/admin/cycles/{cycle.id}/draws/open", data={"scope": "cycle", "reason": "  "}
    )
    assert refused.status_code == 422
    assert "Drawing again needs a reason" in refused.get_data(as_text=True)
    assert set(db.session.scalars(select(Draw.status))) == {"open"}
    assert db.session.scalar(select(func.count(Draw.id))) == 2

    text = open_draw(client, cycle, reason="Ghana's focal point asked for a regional balance.")
    db.session.expire_all()
    draws = db.session.scalars(select(Draw).order_by(Draw.id)).all()
    assert [d.status for d in draws] == ["set_aside", "set_aside", "open", "open"]
    assert draws[2].reason == "Ghana's focal point asked for a regional balance."
    assert draws[2].seed != 4 or draws[2].batch != draws[0].batch
    assert "Drawn again because" in text and "regional balance" in text
    assert db.session.scalar(select(func.count(Assignment.id))) == 0

    # the record of Kenya's review lists both of its draws, with seeds and the reason
    kenya = world["reviews"]["KEN"]
    record = client.get(f"/reviews/{kenya.id}/draws").get_data(as_text=True)
    for draw in (d for d in draws if d.review_id == kenya.id):
        assert f"Draw #{draw.id}" in record and f"<code>{draw.seed}</code>" in record
    assert "set aside" in record and "regional balance" in record

    # setting the open draw aside needs a reason too, and invites nobody
    assert (
        client.post(
            f"/admin/cycles/{cycle.id}/draws/set-aside",
            data={"batch": str(draws[2].batch), "reason": ""},
        ).status_code
        == 422
    )
    response = client.post(
        f"/admin/cycles/{cycle.id}/draws/set-aside",
        data={"batch": str(draws[2].batch), "reason": "The cycle's rules change first."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(select(Draw.status))) == {"set_aside"}
    assert db.session.scalar(select(func.count(Assignment.id))) == 0


def test_confirm_is_refused_when_the_pool_changed_since_the_draw_was_opened(
    client, login_as, world, db, make
):
    only_kenya_and_ghana_open(world, db, make)
    cycle = world["cycle"]
    login_as(world["secretariat"])
    page = open_draw(client, cycle, seed=5)
    data = confirm_data(page)
    make.reviewer("BRA")  # a new reviewer joins the pool meanwhile
    shown = client.get(f"/admin/cycles/{cycle.id}/draws/preview").get_data(as_text=True)
    assert "can no longer be confirmed" in shown and "/draws/confirm" not in shown
    response = client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=data)
    assert response.status_code == 409
    assert "changed since this draw was opened" in response.get_data(as_text=True)
    assert set(db.session.scalars(select(Draw.status))) == {"open"}
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    # drawing again, with the reason, gives a draw that can be confirmed
    again = open_draw(client, cycle, reason="A reviewer joined the pool.")
    new = confirm_data(again)
    assert new["batch"] != data["batch"]
    assert client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=new).status_code == 302
    # a double submission of the same confirmation draws nothing more
    twice = client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=new)
    assert twice.status_code in (409, 422)
    assert db.session.scalar(select(func.count(Assignment.id))) == 4
    assert db.session.scalar(select(func.count(Draw.id))) == 4


def test_whole_cycle_draw_counts_earlier_draws_and_the_k_limit_across_the_cycle(
    client, login_as, world, db, make
):
    only_kenya_and_ghana_open(world, db, make)
    cycle = world["cycle"]
    cycle.draw_max_per_reviewer = 1
    db.session.commit()
    login_as(world["secretariat"])
    draw_and_confirm(client, cycle, seed=3)
    loads = db.session.execute(
        select(Assignment.reviewer_id, func.count()).group_by(Assignment.reviewer_id)
    ).all()
    assert len(loads) == 4 and all(count == 1 for _id, count in loads)
    # nobody has a slot left: a draw for a seat opened by a decline names the K-limit
    declined = db.session.scalars(select(Assignment).order_by(Assignment.id)).first()
    declined.status = A.DECLINED
    db.session.commit()
    refused = client.get(
        f"/admin/cycles/{cycle.id}/draws/preview?scope=seat&replaces_id={declined.id}"
    )
    text = refused.get_data(as_text=True)
    assert "at most K reviews per reviewer per cycle" in text
    assert declined.review.state.name in text
    assert "Open the draw" not in text


def test_refusal_names_the_rule_and_the_review(client, login_as, world, db, make):
    only_kenya_and_ghana_open(world, db, make)
    cycle = world["cycle"]
    cycle.team_size = 5  # four reviewers in the pool
    db.session.commit()
    login_as(world["secretariat"])
    page = client.get(f"/admin/cycles/{cycle.id}/draws/preview?scope=cycle")
    text = page.get_data(as_text=True)
    assert "The draw cannot meet the rules." in text
    assert "Rule that failed" in text and "team size" in text and "Ghana" in text
    assert "Open the draw" not in text  # nothing to open
    response = client.post(f"/admin/cycles/{cycle.id}/draws/open", data={"scope": "cycle"})
    assert response.status_code == 422 and "team size" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Draw.id))) == 0


def test_redraw_replaces_only_the_seat_of_a_declined_reviewer(client, login_as, world, db, make):
    only_kenya_and_ghana_open(world, db, make)
    cycle, kenya = world["cycle"], world["reviews"]["KEN"]
    login_as(world["secretariat"])
    draw_and_confirm(client, cycle, scope="review", review_id=kenya.id, seed=2)
    first = db.session.scalar(select(Draw))
    lead = db.session.get(Assignment, first.result[0]["assignment_id"])
    other = db.session.get(Assignment, first.result[1]["assignment_id"])
    lead.status = A.DECLINED
    db.session.commit()
    team_page = client.get(f"/admin/reviews/{kenya.id}/team").get_data(as_text=True)
    assert f"replaces_id={lead.id}" in team_page and "Re-draw this seat" in team_page
    assert f"Drawn by lot (draw #{first.id})" in team_page

    response = draw_and_confirm(client, cycle, scope="seat", replaces_id=lead.id)
    assert response.status_code == 302
    db.session.expire_all()
    seat = db.session.scalars(select(Draw).order_by(Draw.id.desc())).first()
    assert seat.scope == "seat" and seat.replaces_assignment_id == lead.id
    assert seat.status == "confirmed"
    assert len(seat.result) == 1 and seat.result[0]["lead"] is True  # the lead seat was open
    new = db.session.get(Assignment, seat.result[0]["assignment_id"])
    assert new.reviewer_id not in (lead.reviewer_id, other.reviewer_id)
    assert db.session.get(Assignment, lead.id).status == A.DECLINED  # the history stays
    # the seat is re-drawn once only
    again = client.get(f"/admin/cycles/{cycle.id}/draws/preview?scope=seat&replaces_id={lead.id}")
    assert "This seat cannot be re-drawn" in again.get_data(as_text=True)


def test_rules_are_edited_on_the_cycle_and_refused_with_a_reason(client, login_as, world, db):
    cycle = world["cycle"]
    login_as(world["secretariat"])
    url = f"/admin/cycles/{cycle.id}/draws"
    response = client.post(
        url,
        data={"team_size": "3", "same_group": "y", "max_per_reviewer": "4", "no_reciprocal": ""},
    )
    assert response.status_code == 302
    db.session.refresh(cycle)
    assert (cycle.team_size, cycle.draw_max_per_reviewer) == (3, 4)
    assert cycle.draw_same_group and not cycle.draw_distinct_groups and not cycle.draw_no_reciprocal
    response = client.post(
        url, data={"team_size": "6", "distinct_groups": "y", "max_per_reviewer": "2"}
    )
    assert response.status_code == 422
    assert "there are five" in response.get_data(as_text=True)
    response = client.post(url, data={"team_size": "3", "max_per_reviewer": "zero"})
    assert response.status_code == 422
    db.session.refresh(cycle)
    assert cycle.team_size == 3


def test_pool_page_lists_participating_states_reviewers_with_their_workload(
    client, login_as, world, db, make
):
    kenya = world["reviews"]["KEN"]
    make.assignment(kenya, world["reviewers"]["NOR"], actor=world["secretariat"])
    login_as(world["secretariat"])
    page = client.get(f"/admin/cycles/{world['cycle'].id}/pool").get_data(as_text=True)
    table = re.search(r'id="pool-table".*?</table>', page, re.S).group(0)
    for reviewer in world["reviewers"].values():
        assert reviewer.display_name in table
    assert world["outsider"].display_name not in table
    row = re.search(r"<tr>\s*<td[^>]*>(?:[^<]|</?bdi>)*NOR.*?</tr>", table, re.S).group(0)
    assert "<td>1</td>" in row and "Kenya" in row


@pytest.mark.parametrize("who", ["focal_point", "reviewer", "lead"])
def test_draw_pages_and_pool_are_for_the_secretariat_only(client, login_as, world, db, make, who):
    only_kenya_and_ghana_open(world, db, make)
    cycle, kenya = world["cycle"], world["reviews"]["KEN"]
    if who == "focal_point":
        user = make.focal_point("KEN")
    elif who == "reviewer":
        user = world["reviewers"]["NOR"]
    else:
        user = world["reviewers"]["BRA"]
        make.assignment(kenya, user, lead=True, status=A.ACCEPTED, actor=world["secretariat"])
    login_as(world["secretariat"])
    data = confirm_data(open_draw(client, cycle, seed=1))
    assert client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=data).status_code == 302
    draw_id = db.session.scalar(select(Draw.id))
    before = db.session.scalar(select(func.count(Assignment.id)))
    login_as(user)
    for url in (
        f"/admin/cycles/{cycle.id}/pool",
        f"/admin/cycles/{cycle.id}/draws",
        f"/admin/cycles/{cycle.id}/draws/preview?scope=cycle",
        f"/admin/draws/{draw_id}",
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        f"/admin/cycles/{cycle.id}/draws",
        f"/admin/cycles/{cycle.id}/draws/open",
        f"/admin/cycles/{cycle.id}/draws/confirm",
        f"/admin/cycles/{cycle.id}/draws/set-aside",
    ):
        assert client.post(url, data={**data, "team_size": "1"}).status_code == 403, url
    assert db.session.scalar(select(func.count(Draw.id))) == 2
    assert db.session.scalar(select(func.count(Assignment.id))) == before
    client.post("/logout")
    assert client.get(f"/admin/cycles/{cycle.id}/pool").status_code == 302  # sign in first


# --- command line ------------------------------------------------------------------------------


def test_cycle_list_prints_one_name_per_line(runner, make):
    make.cycle("2027 cycle")
    make.cycle("2028 cycle")
    result = runner.invoke(args=["cycle", "list"])
    assert result.exit_code == 0
    assert result.output.splitlines() == ["2027 cycle", "2028 cycle"]


def test_cycle_draw_dry_run_records_an_open_draw_and_the_real_draw_confirms_it(
    runner, world, db, make
):
    only_kenya_and_ghana_open(world, db, make)
    name = world["cycle"].name
    dry = runner.invoke(args=["cycle", "draw", name, "--seed", "8", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Seed: 8" in dry.output and "nobody is invited" in dry.output
    assert set(db.session.scalars(select(Draw.status))) == {"open"}  # recorded, not confirmed
    assert db.session.scalar(select(func.count(Assignment.id))) == 0
    # another seed while the draw is open is drawing again: refused without a reason
    other = runner.invoke(args=["cycle", "draw", name, "--seed", "9"])
    assert other.exit_code == 1 and "needs a reason" in other.output
    real = runner.invoke(args=["cycle", "draw", name])
    assert real.exit_code == 0, real.output
    teams = [line for line in dry.output.splitlines() if line.startswith(("Kenya", "Ghana"))]
    assert teams and all(line in real.output for line in teams)
    draws = db.session.scalars(select(Draw)).all()
    assert len(draws) == 2 and all(d.actor_id is None and d.seed == 8 for d in draws)
    db.session.expire_all()
    assert {d.status for d in db.session.scalars(select(Draw))} == {"confirmed"}
    assert db.session.scalar(select(func.count(Assignment.id))) == 4


def test_cycle_draw_failure_prints_the_rule_and_exits_non_zero(runner, world, db, make):
    only_kenya_and_ghana_open(world, db, make)
    world["cycle"].draw_same_group = True  # no African reviewer in the pool
    db.session.commit()
    result = runner.invoke(args=["cycle", "draw", world["cycle"].name, "--seed", "1"])
    assert result.exit_code == 1
    assert "Rule failed: at least one member from the reviewed state's regional group" in (
        result.output
    )
    assert "Ghana" in result.output
    assert db.session.scalar(select(func.count(Draw.id))) == 0
    unknown = runner.invoke(args=["cycle", "draw", "No such cycle"])
    assert unknown.exit_code == 1 and "No cycle named" in unknown.output


def test_a_concurrent_invitation_between_plan_and_store_draws_nothing(
    app, world, db, make, monkeypatch
):
    from app.services import draws

    only_kenya_and_ghana_open(world, db, make)
    cycle, kenya = world["cycle"], world["reviews"]["KEN"]
    with app.test_request_context():
        opened = draws.open_draw(cycle, world["secretariat"], scope="review", review=kenya, seed=1)
        plan = draws.plan_draw(cycle, scope="review", review=kenya, seed=1)
    db.session.commit()
    batch = opened[0].batch
    drawn = plan.people[plan.teams[0].picks[1].reviewer_id]
    make.assignment(kenya, drawn, actor=world["secretariat"])  # someone else, meanwhile
    monkeypatch.setattr(draws, "plan_draw", lambda *args, **kwargs: plan)  # the stale view
    with app.test_request_context(), pytest.raises(draws.PoolChanged):
        draws.confirm_open(cycle, world["secretariat"], batch=batch)
    assert set(db.session.scalars(select(Draw.status))) == {"open"}
    assert db.session.scalar(select(func.count(Assignment.id))) == 1


def test_the_demo_secretariat_draws_the_open_teams_of_the_whole_cycle(runner, client, db, login_as):
    from app.models import Cycle, User

    assert runner.invoke(args=["demo"]).exit_code == 0
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == "2027 review cycle"))
    before = db.session.scalar(select(func.count(Assignment.id)))
    secretariat = db.session.scalar(select(User).where(User.email == "secretariat@demo.test"))
    login_as(secretariat, password="demo-password")  # with the second step the tests require
    assert f"/admin/cycles/{cycle.id}/draws" in client.get(f"/admin/cycles/{cycle.id}").get_data(
        as_text=True
    )
    text = open_draw(client, cycle)
    assert "Kenya" in text and "Ghana" in text
    response = client.post(f"/admin/cycles/{cycle.id}/draws/confirm", data=confirm_data(text))
    assert response.status_code == 302
    draws = db.session.scalars(select(Draw)).all()
    assert sorted(d.review.state.code for d in draws) == ["GHA", "KEN"]
    assert db.session.scalar(select(func.count(Assignment.id))) == before + 4


@pytest.mark.parametrize("typed", ["abc", "-1", "1.5", "99999999999999999999", "٣"])
def test_an_unreadable_seed_is_refused_with_its_range_and_nothing_drawn(
    client, login_as, world, db, make, typed
):
    only_kenya_and_ghana_open(world, db, make)
    login_as(world["secretariat"])
    page = client.post(
        f"/admin/cycles/{world['cycle'].id}/draws/open", data={"scope": "cycle", "seed": typed}
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "The seed is a whole number from 0 to" in text
    assert "The draw cannot meet the rules." not in text  # only the seed's message
    assert f'value="{typed}"' in text  # what was typed is kept
    assert db.session.scalar(select(func.count(Draw.id))) == 0


def test_a_large_seed_from_the_command_line_is_accepted_on_the_page(
    client, login_as, world, db, make
):
    only_kenya_and_ghana_open(world, db, make)
    login_as(world["secretariat"])
    seed = 2**63 - 1
    page = open_draw(client, world["cycle"], seed=seed)
    assert seed_on(page) == seed
    response = client.post(
        f"/admin/cycles/{world['cycle'].id}/draws/confirm", data=confirm_data(page)
    )
    assert response.status_code == 302
    assert set(db.session.scalars(select(Draw.seed))) == {seed}
