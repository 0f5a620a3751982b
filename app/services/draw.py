"""Drawing peer-review teams by lot: the pure rules and search (DESIGN §6), no database.

The rules follow the UN Universal Periodic Review (three rapporteurs drawn by lot from different
regional groups, HRC resolution 5/1, annex, §18) and the UNCAC Implementation Review Mechanism
(two reviewing states drawn by lot, one from the same regional group; terms of reference §19):
team size, members from distinct regional groups, at least one member from the reviewed state's
group, at most K reviews per reviewer per cycle, no reciprocal pairs (if a national of B reviews
A, no national of A reviews B in the same cycle), and two exclusions that cannot be switched off
(DESIGN §5): a reviewer never reviews their own state, nor a state they declared a conflict with.

`draw_teams` is deterministic: the candidates are sorted by id and shuffled with
``random.Random(seed)``, and the search backtracks in that order, so the same seed and the same
inputs always give the same teams. It returns teams that satisfy every rule, or raises
`DrawRefused` naming the rule that failed and the review it failed for. `violations` checks a
result against the rules independently of the search (used by tests and as a last check).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workflows.base import N_, Refusal

#: Largest seed accepted (a signed 63-bit integer, so it fits every database's BIGINT).
MAX_SEED = 2**63 - 1
#: Search nodes tried before giving up (a bound on the time a draw may take, never hit by pools
#: of realistic size: each review's seats are few and candidates are pruned by the rules first).
SEARCH_LIMIT = 50_000

#: Rule keys, in the order a failure is diagnosed, and their labels (untranslated msgids).
RULE_LABELS = {
    "team_size": N_("team size"),
    "own_state": N_("exclusion: a reviewer never reviews their own state"),
    "conflict": N_("exclusion: a declared conflict of interest"),
    "already_on_review": N_("exclusion: already on this review"),
    "max_per_reviewer": N_("at most K reviews per reviewer per cycle"),
    "no_reciprocal": N_("no reciprocal pairs"),
    "distinct_groups": N_("members from distinct regional groups"),
    "same_group": N_("at least one member from the reviewed state's regional group"),
    "search_limit": N_("search limit"),
}


@dataclass(frozen=True)
class Rules:
    """A cycle's draw rules. ``max_per_reviewer`` None means no limit."""

    team_size: int = 3
    distinct_groups: bool = True
    same_group: bool = False
    max_per_reviewer: int | None = 2
    no_reciprocal: bool = True

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    """A reviewer of the pool: ``load`` is the number of reviews they already work on in the
    cycle (invited, accepted or submitted); ``conflicts`` the state ids they declared a conflict
    of interest with (in any cycle)."""

    id: int
    name: str
    state_id: int
    state: str
    group: str
    load: int = 0
    conflicts: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Member:
    """A reviewer already working on the review (invited, accepted or submitted)."""

    reviewer_id: int
    state_id: int
    group: str
    is_lead: bool = False


@dataclass(frozen=True)
class Request:
    """Seats to fill on one review. ``barred`` holds every reviewer already on the review in any
    status (declined and withdrawn reviewers are reinstated, never drawn again)."""

    review_id: int
    label: str
    state_id: int
    group: str
    seats: int
    members: tuple[Member, ...] = ()
    barred: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Pick:
    reviewer_id: int
    is_lead: bool


@dataclass(frozen=True)
class Team:
    review_id: int
    picks: tuple[Pick, ...]


class DrawRefused(Exception):
    """The rules cannot be met: ``rule`` (a key of `RULE_LABELS`) failed for ``review_id``."""

    def __init__(self, rule: str, review_id: int | None, label: str, refusal: Refusal):
        super().__init__(refusal.render())
        self.rule = rule
        self.review_id = review_id
        self.label = label
        self.refusal = refusal


@dataclass
class _State:
    """Mutable search state: loads and reviewer→reviewed state pairs, updated as seats fill."""

    load: dict[int, int]
    pairs: set[tuple[int, int]]
    nodes: int = 0
    deepest: int = -1
    stuck: int = 0
    chosen: list[list[Pick]] = field(default_factory=list)


def draw_teams(
    requests: Sequence[Request],
    candidates: Iterable[Candidate],
    rules: Rules,
    pairs: Iterable[tuple[int, int]] = (),
    seed: int = 0,
) -> list[Team]:
    """Draw the teams for ``requests``, in order, from ``candidates``.

    ``pairs`` are (reviewer's state id, reviewed state id) of every review already worked on in
    the cycle (for the reciprocity rule). The first reviewer drawn for a review becomes its lead
    unless a member already is. Returns one `Team` per request, in order.

    Raises:
        DrawRefused: no assignment satisfies every rule; names the rule and the review (when
            every review could be drawn alone, the cross-review rule that blocks them together).
    """
    pool = sorted(candidates, key=lambda c: c.id)
    pair_set = set(pairs)
    for request in requests:
        refusal = _diagnose_alone(request, pool, rules, pair_set)
        if refusal is not None:
            raise refusal
    order = list(pool)
    random.Random(seed).shuffle(order)
    result = _search(requests, order, rules, pair_set)
    if isinstance(result, list):
        return result
    raise _diagnose_together(requests, order, rules, pair_set, result)


def _search(
    requests: Sequence[Request],
    order: list[Candidate],
    rules: Rules,
    pairs: set[tuple[int, int]],
) -> list[Team] | _State:
    """Depth-first search over the seats in ``order``; the teams, or the failed search state."""
    state = _State(load={c.id: c.load for c in order}, pairs=set(pairs))
    seats = [(i, n) for i, request in enumerate(requests) for n in range(request.seats)]
    state.chosen = [[] for _ in requests]
    rank = {c.id: position for position, c in enumerate(order)}
    group_of = {c.id: c.group for c in order}

    def fill(position: int) -> bool:
        if position == len(seats):
            return True
        state.nodes += 1
        if state.nodes > SEARCH_LIMIT:
            return False
        index, n = seats[position]
        request = requests[index]
        picks = state.chosen[index]
        groups = [m.group for m in request.members] + [group_of[p.reviewer_id] for p in picks]
        # after the lead, a team is a set: later seats take candidates in draw order only
        after = rank[picks[-1].reviewer_id] if len(picks) >= 2 else -1
        has_lead = any(m.is_lead for m in request.members) or bool(picks)
        for candidate in order:
            if rank[candidate.id] <= after or any(p.reviewer_id == candidate.id for p in picks):
                continue
            if _first_exclusion(candidate, request, rules, state.load, state.pairs):
                continue
            if rules.distinct_groups and candidate.group in groups:
                continue
            if (
                rules.same_group
                and n == request.seats - 1
                and request.group not in groups
                and candidate.group != request.group
            ):
                continue
            picks.append(Pick(candidate.id, not has_lead))
            state.load[candidate.id] += 1
            pair = (candidate.state_id, request.state_id)
            added = pair not in state.pairs
            state.pairs.add(pair)
            if fill(position + 1):
                return True
            picks.pop()
            state.load[candidate.id] -= 1
            if added:
                state.pairs.discard(pair)
            if state.nodes > SEARCH_LIMIT:
                break
        if position > state.deepest:
            state.deepest, state.stuck = position, index
        return False

    if fill(0):
        return [
            Team(request.review_id, tuple(picks))
            for request, picks in zip(requests, state.chosen, strict=True)
        ]
    return state


def _first_exclusion(
    candidate: Candidate,
    request: Request,
    rules: Rules,
    load: Mapping[int, int],
    pairs: set[tuple[int, int]],
) -> str | None:
    """The first per-reviewer rule that excludes ``candidate`` from ``request``, or None."""
    if candidate.state_id == request.state_id:
        return "own_state"
    if request.state_id in candidate.conflicts:
        return "conflict"
    if candidate.id in request.barred:
        return "already_on_review"
    if rules.max_per_reviewer is not None and load[candidate.id] >= rules.max_per_reviewer:
        return "max_per_reviewer"
    if rules.no_reciprocal and (request.state_id, candidate.state_id) in pairs:
        return "no_reciprocal"
    return None


def _refuse(rule: str, request: Request | None, message: str, **params: Any) -> DrawRefused:
    label = request.label if request else ""
    return DrawRefused(
        rule,
        request.review_id if request else None,
        label,
        Refusal(message, {"review": label, "rule": RULE_LABELS[rule], **params}),
    )


def _diagnose_alone(
    request: Request, pool: list[Candidate], rules: Rules, pairs: set[tuple[int, int]]
) -> DrawRefused | None:
    """Why ``request`` cannot be drawn even on its own, or None if it can."""
    load = {c.id: c.load for c in pool}
    needed = request.seats
    if rules.distinct_groups and len(request.members) + needed > 5:
        return _refuse(
            "distinct_groups",
            request,
            N_(
                "%(review)s: rule failed — %(rule)s: a team of %(size)d cannot come from the "
                "five regional groups."
            ),
            size=len(request.members) + needed,
        )
    if len(pool) < needed:
        return _refuse(
            "team_size",
            request,
            N_(
                "%(review)s: rule failed — %(rule)s: the pool has %(count)d reviewers for "
                "%(needed)d seats."
            ),
            count=len(pool),
            needed=needed,
        )
    keys = list(RULE_LABELS)
    remaining = list(pool)
    for rule in ("own_state", "conflict", "already_on_review", "max_per_reviewer", "no_reciprocal"):
        # cumulative: drop the candidates this rule or an earlier one excludes
        remaining = [
            c
            for c in pool
            if (first := _first_exclusion(c, request, rules, load, pairs)) is None
            or keys.index(first) > keys.index(rule)
        ]
        if len(remaining) < needed:
            return _refuse(
                rule,
                request,
                N_(
                    "%(review)s: rule failed — %(rule)s: %(count)d eligible reviewers left for "
                    "%(needed)d seats."
                ),
                count=len(remaining),
                needed=needed,
            )
    member_groups = {m.group for m in request.members}
    if rules.distinct_groups:
        free_groups = {c.group for c in remaining} - member_groups
        if len(free_groups) < needed:
            return _refuse(
                "distinct_groups",
                request,
                N_(
                    "%(review)s: rule failed — %(rule)s: the eligible reviewers come from "
                    "%(count)d other regional groups for %(needed)d seats."
                ),
                count=len(free_groups),
                needed=needed,
            )
    if (
        rules.same_group
        and request.group not in member_groups
        and (needed == 0 or not any(c.group == request.group for c in remaining))
    ):
        return _refuse(
            "same_group",
            request,
            N_("%(review)s: rule failed — %(rule)s: no eligible reviewer comes from %(group)s."),
            group=request.group,
        )
    return None


def _diagnose_together(
    requests: Sequence[Request],
    order: list[Candidate],
    rules: Rules,
    pairs: set[tuple[int, int]],
    failed: _State,
) -> DrawRefused:
    """Why reviews that can each be drawn alone cannot be drawn together."""
    stuck = requests[failed.stuck] if requests else None
    if failed.nodes > SEARCH_LIMIT:
        return _refuse(
            "search_limit",
            stuck,
            N_("%(review)s: no team was found within the %(rule)s; draw fewer reviews at a time."),
        )
    # only two rules link reviews: the first whose relaxation lets the draw through is named
    rule = "max_per_reviewer"
    for key, relaxed in (
        ("max_per_reviewer", replace(rules, max_per_reviewer=None)),
        ("no_reciprocal", replace(rules, no_reciprocal=False)),
    ):
        if isinstance(_search(requests, order, relaxed, pairs), list):
            rule = key
            break
    return _refuse(
        rule,
        stuck,
        N_(
            "%(review)s: rule failed — %(rule)s: the reviews drawn together need more "
            "reviewers than the pool can give under this rule."
        ),
    )


def violations(
    teams: Sequence[Team],
    requests: Sequence[Request],
    candidates: Iterable[Candidate],
    rules: Rules,
    pairs: Iterable[tuple[int, int]] = (),
) -> list[str]:
    """Every rule ``teams`` break, as ``"<rule key>: <review label>"`` strings (empty: none).

    An independent check of a draw's result, written without the search's helpers.
    """
    by_id = {c.id: c for c in candidates}
    found: list[str] = []
    load = {c.id: c.load for c in by_id.values()}
    all_pairs = set(pairs)
    drawn_pairs: set[tuple[int, int]] = set()
    if len(teams) != len(requests):
        return ["team_size: wrong number of teams"]
    for team, request in zip(teams, requests, strict=True):
        ids = [p.reviewer_id for p in team.picks]
        if team.review_id != request.review_id or len(ids) != request.seats:
            found.append(f"team_size: {request.label}")
        if len(set(ids)) != len(ids) or any(i not in by_id for i in ids):
            found.append(f"team_size: {request.label}")
            continue
        chosen = [by_id[i] for i in ids]
        for c in chosen:
            if c.state_id == request.state_id:
                found.append(f"own_state: {request.label}")
            if request.state_id in c.conflicts:
                found.append(f"conflict: {request.label}")
            if c.id in request.barred:
                found.append(f"already_on_review: {request.label}")
            load[c.id] += 1
        groups = [m.group for m in request.members] + [c.group for c in chosen]
        if rules.distinct_groups and len(set(groups)) != len(groups):
            found.append(f"distinct_groups: {request.label}")
        if rules.same_group and request.group not in groups:
            found.append(f"same_group: {request.label}")
        leads = sum(1 for m in request.members if m.is_lead) + sum(
            1 for p in team.picks if p.is_lead
        )
        if leads != 1 and (request.members or team.picks):
            found.append(f"lead: {request.label}")
        drawn_pairs.update((c.state_id, request.state_id) for c in chosen)
    if rules.max_per_reviewer is not None:
        for reviewer_id, count in load.items():
            if count > rules.max_per_reviewer and count > by_id[reviewer_id].load:
                found.append(f"max_per_reviewer: {by_id[reviewer_id].name}")
    if rules.no_reciprocal:
        every = all_pairs | drawn_pairs
        for a, b in drawn_pairs:
            if a != b and (b, a) in every:
                found.append(f"no_reciprocal: {a}-{b}")
    return sorted(set(found))
