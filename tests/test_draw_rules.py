"""The pure draw by lot (app/services/draw.py, DESIGN §6): each rule alone, combined, and a
Hypothesis property over random pools and rules."""

from __future__ import annotations

from itertools import combinations, product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.draw import (
    RULE_LABELS,
    Candidate,
    DrawRefused,
    Member,
    Request,
    Rules,
    draw_teams,
    violations,
)

AF, AP, EE, GR, WE = (
    "African Group",
    "Asia-Pacific Group",
    "Eastern European Group",
    "GRULAC",
    "WEOG",
)
GROUPS = [AF, AP, EE, GR, WE]
# state ids: 1 KEN (AF), 2 GHA (AF), 3 IDN (AP), 4 POL (EE), 5 BRA (GR), 6 NOR (WE), 7 PHL (AP)
STATE_GROUP = {1: AF, 2: AF, 3: AP, 4: EE, 5: GR, 6: WE, 7: AP}


def cand(id_: int, state_id: int, load: int = 0, conflicts=()) -> Candidate:
    return Candidate(
        id_, f"r{id_}", state_id, f"S{state_id}", STATE_GROUP[state_id], load, frozenset(conflicts)
    )


def req(review_id: int, state_id: int, seats: int, members=(), barred=()) -> Request:
    return Request(
        review_id,
        f"State {state_id}",
        state_id,
        STATE_GROUP[state_id],
        seats,
        tuple(members),
        frozenset(barred),
    )


OFF = Rules(
    team_size=3, distinct_groups=False, same_group=False, max_per_reviewer=None, no_reciprocal=False
)


def refused(requests, candidates, rules, pairs=(), seed=1) -> DrawRefused:
    with pytest.raises(DrawRefused) as info:
        draw_teams(requests, candidates, rules, pairs, seed)
    return info.value


def picked(teams) -> list[list[int]]:
    return [[p.reviewer_id for p in t.picks] for t in teams]


def test_team_size_draws_exactly_the_open_seats_and_names_the_rule_when_the_pool_is_too_small():
    pool = [cand(1, 3), cand(2, 4)]
    teams = draw_teams([req(10, 1, 2)], pool, OFF, seed=3)
    assert sorted(picked(teams)[0]) == [1, 2]
    error = refused([req(10, 1, 3)], pool, OFF)
    assert error.rule == "team_size" and error.review_id == 10
    assert "State 1" in str(error) and "team size" in str(error)


def test_own_state_is_always_excluded():
    pool = [cand(1, 1), cand(2, 3)]
    for seed in range(20):
        assert picked(draw_teams([req(10, 1, 1)], pool, OFF, seed=seed)) == [[2]]
    assert refused([req(10, 1, 2)], pool, OFF).rule == "own_state"


def test_declared_conflict_excludes_the_reviewer():
    pool = [cand(1, 3, conflicts={1}), cand(2, 4)]
    for seed in range(20):
        assert picked(draw_teams([req(10, 1, 1)], pool, OFF, seed=seed)) == [[2]]
    assert refused([req(10, 1, 2)], pool, OFF).rule == "conflict"


def test_reviewers_already_on_the_review_are_not_drawn_again():
    pool = [cand(1, 3), cand(2, 4)]
    for seed in range(20):
        assert picked(draw_teams([req(10, 1, 1, barred={1})], pool, OFF, seed=seed)) == [[2]]
    assert refused([req(10, 1, 2, barred={1})], pool, OFF).rule == "already_on_review"


def test_at_most_k_reviews_per_reviewer_counts_the_cycle_and_this_draw():
    rules = Rules(3, False, False, 2, False)
    pool = [cand(1, 3, load=2), cand(2, 4, load=1)]
    assert picked(draw_teams([req(10, 1, 1)], pool, rules, seed=1)) == [[2]]
    assert refused([req(10, 1, 2)], pool, rules).rule == "max_per_reviewer"
    # drawn together: reviewer 2 has one slot left, so two reviews cannot both get them
    error = refused([req(10, 1, 1), req(11, 2, 1)], pool, rules)
    assert error.rule == "max_per_reviewer"
    assert picked(draw_teams([req(10, 1, 1), req(11, 2, 1)], pool, OFF, seed=1)) == [[2], [2]]


def test_no_reciprocal_pairs_with_the_cycle_and_within_the_draw():
    rules = Rules(3, False, False, None, True)
    # a national of state 1 (KEN) already reviews state 3 (IDN): no IDN national reviews KEN
    pool = [cand(1, 3), cand(2, 4)]
    for seed in range(20):
        assert picked(draw_teams([req(10, 1, 1)], pool, rules, [(1, 3)], seed)) == [[2]]
    assert refused([req(10, 1, 2)], pool, rules, [(1, 3)]).rule == "no_reciprocal"
    # within one draw: KEN's reviewer for IDN's review forbids IDN's reviewer for KEN's review
    together = [req(10, 1, 1), req(11, 3, 1)]
    error = refused(together, [cand(1, 3), cand(2, 1)], rules)
    assert error.rule == "no_reciprocal"


def test_distinct_regional_groups_with_members_already_on_the_team():
    rules = Rules(3, True, False, None, False)
    pool = [cand(1, 3), cand(2, 7), cand(3, 4)]  # AP, AP, EE
    for seed in range(20):
        ids = sorted(picked(draw_teams([req(10, 1, 2)], pool, rules, seed=seed))[0])
        assert ids in ([1, 3], [2, 3])
    assert refused([req(10, 1, 3)], pool, rules).rule == "distinct_groups"
    member = Member(99, 4, EE, True)  # an EE member already on the team
    error = refused([req(10, 1, 2, members=[member])], pool, rules)
    assert error.rule == "distinct_groups"
    assert refused([req(10, 1, 6)], [cand(i, 3) for i in range(8)], rules).rule == (
        "distinct_groups"
    )


def test_at_least_one_from_the_reviewed_states_group():
    rules = Rules(3, False, True, None, False)
    pool = [cand(1, 3), cand(2, 4), cand(3, 2)]  # AP, EE, AF (GHA national, reviewing KEN)
    for seed in range(20):
        assert 3 in picked(draw_teams([req(10, 1, 2)], pool, rules, seed=seed))[0]
    assert refused([req(10, 1, 2)], pool[:2], rules).rule == "same_group"
    # a member from the group already satisfies it
    member = Member(99, 2, AF, True)
    assert len(picked(draw_teams([req(10, 1, 1, members=[member])], pool[:2], rules))[0]) == 1


def test_first_drawn_is_lead_unless_the_team_has_one():
    pool = [cand(1, 3), cand(2, 4), cand(3, 5)]
    team = draw_teams([req(10, 1, 3)], pool, OFF, seed=5)[0]
    assert [p.is_lead for p in team.picks] == [True, False, False]
    team = draw_teams([req(10, 1, 2, members=[Member(99, 6, WE, True)])], pool, OFF, seed=5)[0]
    assert [p.is_lead for p in team.picks] == [False, False]
    team = draw_teams([req(10, 1, 1, members=[Member(99, 6, WE, False)])], pool, OFF, seed=5)[0]
    assert [p.is_lead for p in team.picks] == [True]


def test_same_seed_same_team_and_input_order_does_not_matter():
    pool = [cand(i, s) for i, s in enumerate([3, 4, 5, 6, 7, 2, 3, 4, 5, 6], start=1)]
    requests = [req(10, 1, 3), req(11, 2, 3)]
    rules = Rules()
    first = draw_teams(requests, pool, rules, seed=42)
    assert draw_teams(requests, list(reversed(pool)), rules, seed=42) == first
    seen = {tuple(map(tuple, picked(draw_teams(requests, pool, rules, seed=s)))) for s in range(30)}
    assert len(seen) > 5  # the seed really draws


def test_all_rules_combined_on_a_realistic_cycle():
    rules = Rules(team_size=3, distinct_groups=True, same_group=False, max_per_reviewer=2)
    pool = [cand(i, s) for i, s in enumerate([1, 2, 3, 4, 5, 6, 7, 1, 3, 5], start=1)]
    requests = [req(10 + s, s, 3) for s in (1, 2, 3, 4)]
    for seed in range(10):
        teams = draw_teams(requests, pool, rules, [(6, 4)], seed=seed)
        assert violations(teams, requests, pool, rules, [(6, 4)]) == []


def test_combined_rules_that_block_each_other_name_the_rule_linking_the_reviews():
    # Kenya and Ghana each need an African member: only each other's nationals, a reciprocal pair
    rules = Rules(team_size=3, distinct_groups=True, same_group=True, max_per_reviewer=2)
    pool = [cand(i, s) for i, s in enumerate([1, 2, 3, 4, 5, 6, 7, 1, 3, 5], start=1)]
    requests = [req(11, 1, 3), req(12, 2, 3)]
    assert draw_teams(requests[:1], pool, rules, seed=1)  # each alone is fine
    error = refused(requests, pool, rules)
    assert error.rule == "no_reciprocal" and error.review_id in (11, 12)


# --- property ----------------------------------------------------------------------------------


def brute_force_feasible(requests, candidates, rules, pairs) -> bool:
    """Whether any assignment satisfies every rule, by enumeration (tiny inputs only)."""
    per_request = []
    for r in requests:
        per_request.append(
            [
                (lead, rest)
                for combo in combinations([c.id for c in candidates], r.seats)
                for lead in (combo if not any(m.is_lead for m in r.members) and combo else [None])
                for rest in [combo]
            ]
        )
    from app.services.draw import Pick, Team

    for choice in product(*per_request):
        teams = [
            Team(r.review_id, tuple(Pick(i, i == lead) for i in combo))
            for r, (lead, combo) in zip(requests, choice, strict=True)
        ]
        if not violations(teams, requests, candidates, rules, pairs):
            return True
    return False


@st.composite
def scenarios(draw):
    n_states = 6
    candidates = [
        Candidate(
            i,
            f"r{i}",
            s := draw(st.integers(1, n_states)),
            f"S{s}",
            GROUPS[s % 5],
            draw(st.integers(0, 2)),
            frozenset(draw(st.sets(st.integers(1, n_states), max_size=1))),
        )
        for i in range(1, draw(st.integers(0, 7)) + 1)
    ]
    reviewed = draw(st.lists(st.integers(1, n_states), min_size=1, max_size=2, unique=True))
    requests = [
        Request(
            100 + s,
            f"State {s}",
            s,
            GROUPS[s % 5],
            draw(st.integers(1, 2)),
            (),
            frozenset(
                draw(st.sets(st.sampled_from([c.id for c in candidates] or [0]), max_size=1))
            ),
        )
        for s in reviewed
    ]
    rules = Rules(
        team_size=3,
        distinct_groups=draw(st.booleans()),
        same_group=draw(st.booleans()),
        max_per_reviewer=draw(st.sampled_from([None, 1, 2])),
        no_reciprocal=draw(st.booleans()),
    )
    pairs = draw(st.sets(st.tuples(st.integers(1, n_states), st.integers(1, n_states)), max_size=3))
    return requests, candidates, rules, sorted(pairs), draw(st.integers(0, 2**63 - 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_draw_satisfies_every_rule_or_names_the_one_that_failed(scenario):
    requests, candidates, rules, pairs, seed = scenario
    try:
        teams = draw_teams(requests, candidates, rules, pairs, seed)
    except DrawRefused as error:
        assert error.rule in RULE_LABELS and error.rule != "search_limit"
        assert error.review_id in {r.review_id for r in requests}
        assert error.label and error.label in str(error)
        # the refusal is honest: no assignment at all satisfies the rules
        assert not brute_force_feasible(requests, candidates, rules, pairs)
    else:
        assert violations(teams, requests, candidates, rules, pairs) == []
        assert draw_teams(requests, list(reversed(candidates)), rules, pairs, seed) == teams
