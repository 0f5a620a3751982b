"""Draws by lot against the database: the reviewer pool, previews and stored draws (DESIGN §6).

The **reviewer pool** of a cycle is every active peer reviewer with a state whose state takes
part in the cycle: taking part is the nomination (the UNCAC and UPR mechanisms draw reviewers
from the participating states), so there is no separate nomination list to keep in step.

A draw is **opened** (`open_draw`): its seed, who opened it and when, the pool, the rules and
the teams it gives are stored (status "open") before any team is shown, so every preview of it
shows the same teams and nobody can re-roll it unseen. It is then **confirmed** (`confirm_open`,
which plans again with the recorded seed and refuses with `PoolChanged` when the inputs differ
from the recorded fingerprint) and the drawn reviewers are invited through
`cycles.assign_reviewer`; or **drawn again** with a reason, which sets the open draw aside and
opens a new one beside it. `verify` recomputes a stored draw from its record with the reviewers
replaced by candidate numbers (`public_inputs`), so a reviewed state can check it without
learning names. Functions flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Assignment, Cycle, Draw, Review, Role, State, User
from app.services import clock, cycles
from app.services.admin import TEAM_OPEN_STATUSES, WORKING_STATUSES
from app.services.cycles import SetupError
from app.services.draw import (
    MAX_SEED,
    RULE_LABELS,
    Candidate,
    DrawRefused,
    Member,
    Request,
    Rules,
    Team,
    draw_teams,
    violations,
)
from app.services.transitions import refusal_text
from workflows import AssignmentStatus, CycleStatus
from workflows.base import Refusal

#: Assignment statuses whose seat may be re-drawn (the reviewer dropped out).
DROPPED = (AssignmentStatus.DECLINED, AssignmentStatus.WITHDRAWN, AssignmentStatus.CONFLICTED)
SCOPES = ("cycle", "review", "seat")


class PoolChanged(SetupError):
    """The pool, the rules or the teams changed between the preview and its confirmation."""


def explain(refused: DrawRefused) -> str:
    """The refusal of a draw in the reader's language, naming the rule and the review."""
    params = dict(refused.refusal.params)
    params["rule"] = _(RULE_LABELS[refused.rule])
    kept = refused.refusal
    return refusal_text(Refusal(kept.message, params, plural=kept.plural))


def rules_of(cycle: Cycle) -> Rules:
    """The cycle's draw rules (DESIGN §6)."""
    return Rules(
        team_size=cycle.team_size,
        distinct_groups=cycle.draw_distinct_groups,
        same_group=cycle.draw_same_group,
        max_per_reviewer=cycle.draw_max_per_reviewer,
        no_reciprocal=cycle.draw_no_reciprocal,
    )


def update_rules(
    cycle: Cycle,
    *,
    team_size: int,
    distinct_groups: bool,
    same_group: bool,
    max_per_reviewer: int,
    no_reciprocal: bool,
) -> Cycle:
    """Store the cycle's draw rules; they apply to the next draw (stored draws keep theirs).

    Raises:
        SetupError: a closed cycle; team size outside 1–7; K outside 1–20; distinct regional
            groups asked for a team larger than the five UN regional groups.
    """
    if cycle.status == CycleStatus.CLOSED:
        raise SetupError(_("The cycle is closed."))
    if not 1 <= team_size <= 7:
        raise SetupError(_("A review team has between 1 and 7 reviewers."))
    if not 1 <= max_per_reviewer <= 20:
        raise SetupError(_("A reviewer takes between 1 and 20 reviews per cycle."))
    if distinct_groups and team_size > 5:
        raise SetupError(
            _(
                "A team of %(size)d cannot come from distinct regional groups: there are five.",
                size=team_size,
            )
        )
    cycle.team_size = team_size
    cycle.draw_distinct_groups = distinct_groups
    cycle.draw_same_group = same_group
    cycle.draw_max_per_reviewer = max_per_reviewer
    cycle.draw_no_reciprocal = no_reciprocal
    db.session.flush()
    return cycle


# --- the pool ----------------------------------------------------------------------------------


@dataclass
class PoolRow:
    """One reviewer of the pool and their workload in the cycle (``working``: invited, accepted
    or submitted; ``dropped``: declined, withdrawn or conflicted)."""

    reviewer: User
    working: int
    dropped: int
    reviews: list[str] = field(default_factory=list)


def _pool_users(cycle: Cycle) -> Sequence[User]:
    participating = select(Review.state_id).where(Review.cycle_id == cycle.id)
    return db.session.scalars(
        select(User)
        .where(
            User.role == Role.REVIEWER,
            User.active.is_(True),
            User.state_id.is_not(None),
            User.state_id.in_(participating),
        )
        .options(joinedload(User.state))
        .order_by(User.id)
    ).all()


def _cycle_assignments(cycle: Cycle) -> Sequence[Assignment]:
    return db.session.scalars(
        select(Assignment)
        .join(Review, Review.id == Assignment.review_id)
        .where(Review.cycle_id == cycle.id)
        .options(
            joinedload(Assignment.review).joinedload(Review.state),
            joinedload(Assignment.reviewer).joinedload(User.state),
        )
        .order_by(Assignment.id)
    ).all()


def reviewer_pool(cycle: Cycle) -> list[PoolRow]:
    """The cycle's reviewer pool (see the module docstring), by state name then reviewer name,
    each with their workload in the cycle and the states they review in it."""
    rows = {user.id: PoolRow(user, 0, 0) for user in _pool_users(cycle)}
    for assignment in _cycle_assignments(cycle):
        row = rows.get(assignment.reviewer_id)
        if row is None:
            continue
        if assignment.status in WORKING_STATUSES:
            row.working += 1
            row.reviews.append(assignment.review.state.name)
        else:
            row.dropped += 1
    return sorted(rows.values(), key=lambda r: (r.reviewer.state.name, r.reviewer.display_name))


def pool_outsiders(cycle: Cycle) -> int:
    """Active peer reviewers left out of the pool because their state does not take part."""
    participating = select(Review.state_id).where(Review.cycle_id == cycle.id)
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.REVIEWER,
            User.active.is_(True),
            User.state_id.not_in(participating),
        )
    )


# --- planning ----------------------------------------------------------------------------------


def open_seats(review: Review, working: int) -> int:
    """Seats of ``review`` left to fill: the cycle's team size minus ``working`` members."""
    return max(review.cycle.team_size - working, 0)


def drawable_reviews(cycle: Cycle) -> list[Review]:
    """Reviews of ``cycle`` still forming their team with at least one open seat, by state."""
    working = dict(
        db.session.execute(
            select(Assignment.review_id, func.count(Assignment.id))
            .join(Review, Review.id == Assignment.review_id)
            .where(Review.cycle_id == cycle.id, Assignment.status.in_(WORKING_STATUSES))
            .group_by(Assignment.review_id)
        ).all()
    )
    reviews = db.session.scalars(
        select(Review)
        .join(State, State.id == Review.state_id)
        .where(Review.cycle_id == cycle.id, Review.status.in_(TEAM_OPEN_STATUSES))
        .options(joinedload(Review.state))
        .order_by(State.name)
    ).all()
    return [r for r in reviews if open_seats(r, working.get(r.id, 0)) > 0]


def redrawable(assignment: Assignment) -> bool:
    """Whether the seat of ``assignment`` may be re-drawn: its reviewer dropped out, no confirmed
    draw replaced it yet, and the review still forms its team with an open seat."""
    review = assignment.review
    if assignment.status not in DROPPED or review.status not in TEAM_OPEN_STATUSES:
        return False
    if review.cycle.status == CycleStatus.CLOSED:
        return False
    replaced = db.session.scalar(
        select(Draw.id)
        .where(Draw.replaces_assignment_id == assignment.id, Draw.status == "confirmed")
        .limit(1)
    )
    if replaced is not None:
        return False
    working = db.session.scalar(
        select(func.count(Assignment.id)).where(
            Assignment.review_id == review.id, Assignment.status.in_(WORKING_STATUSES)
        )
    )
    return open_seats(review, working) > 0


@dataclass
class Plan:
    """A draw computed but not stored: the preview. ``fingerprint`` digests every input."""

    cycle: Cycle
    scope: str
    seed: int
    rules: Rules
    requests: list[Request]
    candidates: list[Candidate]
    pairs: list[tuple[int, int]]
    teams: list[Team]
    reviews: dict[int, Review]
    people: dict[int, User]
    replaces: Assignment | None
    fingerprint: str
    codes: dict[int, str]

    def pool_json(self) -> dict:
        return {
            "reviewers": [
                {
                    "id": c.id,
                    "name": c.name,
                    "state": c.state,
                    "group": c.group,
                    "load": c.load,
                    "conflicts": sorted(self.codes.get(s, str(s)) for s in c.conflicts),
                }
                for c in self.candidates
            ],
            "pairs": sorted(
                [self.codes.get(a, str(a)), self.codes.get(b, str(b))] for a, b in self.pairs
            ),
            "fingerprint": self.fingerprint,
        }

    def inputs_json(self) -> dict:
        """What the draw is computed from, with ids, for `verify`: requests, candidates, pairs."""
        return {
            "requests": [
                {
                    **asdict(r),
                    "members": [asdict(m) for m in r.members],
                    "barred": sorted(r.barred),
                }
                for r in self.requests
            ],
            "candidates": [
                {**asdict(c), "conflicts": sorted(c.conflicts)} for c in self.candidates
            ],
            "pairs": [list(p) for p in self.pairs],
        }

    def team_rows(self, team: Team) -> list[dict]:
        """The drawn reviewers of ``team`` as stored in `Draw.result` (without assignment ids)."""
        rows = []
        for pick in team.picks:
            user = self.people[pick.reviewer_id]
            rows.append(
                {
                    "reviewer_id": user.id,
                    "name": user.display_name,
                    "state": user.state.code,
                    "state_name": user.state.name,
                    "group": user.state.regional_group.value,
                    "lead": pick.is_lead,
                }
            )
        return rows


def _requests(
    cycle: Cycle, reviews: Sequence[Review], seats: dict[int, int] | None
) -> list[Request]:
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.review_id.in_([r.id for r in reviews]))
        .options(joinedload(Assignment.reviewer).joinedload(User.state))
        .order_by(Assignment.id)
    ).all()
    requests = []
    for review in reviews:
        mine = [a for a in assignments if a.review_id == review.id]
        members = tuple(
            Member(
                a.reviewer_id,
                a.reviewer.state_id or 0,
                a.reviewer.state.regional_group.value if a.reviewer.state else "",
                a.is_lead,
            )
            for a in mine
            if a.status in WORKING_STATUSES
        )
        count = open_seats(review, len(members))
        if seats is not None:
            count = min(count, seats.get(review.id, 0))
        requests.append(
            Request(
                review_id=review.id,
                label=review.state.name,
                state_id=review.state_id,
                group=review.state.regional_group.value,
                seats=count,
                members=members,
                barred=frozenset(a.reviewer_id for a in mine),
            )
        )
    return requests


def _fingerprint(rules, requests, candidates, pairs, replaces) -> str:
    def plain(value):
        if isinstance(value, frozenset | set):
            return sorted(value)
        raise TypeError(type(value))

    data = {
        "rules": rules.as_json(),
        "requests": [asdict(r) for r in requests],
        "candidates": [asdict(c) for c in candidates],
        "pairs": sorted(pairs),
        "replaces": replaces,
    }
    text = json.dumps(data, sort_keys=True, default=plain)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def new_seed() -> int:
    """A fresh random seed (0 ≤ seed < 2**31: short enough to read out and type back)."""
    return secrets.randbelow(2**31)


def check_seed(seed: int) -> int:
    """Return ``seed`` if 0 ≤ seed ≤ `MAX_SEED`. Raises `SetupError` otherwise."""
    if not 0 <= seed <= MAX_SEED:
        raise SetupError(_("The seed is a whole number from 0 to %(max)d.", max=MAX_SEED))
    return seed


def plan_draw(
    cycle: Cycle,
    *,
    scope: str,
    review: Review | None = None,
    replaces: Assignment | None = None,
    seed: int | None = None,
) -> Plan:
    """Compute a draw without storing anything.

    ``scope`` "cycle": every review of `drawable_reviews`, drawn together (the K-limit and
    reciprocity count the reviewers drawn for earlier reviews); "review": ``review``'s open
    seats; "seat": one seat in place of ``replaces`` (a declined, withdrawn or conflicted
    assignment). ``seed`` None draws a fresh one (`new_seed`), kept in the plan.

    Raises:
        SetupError: a closed cycle, nothing to draw, or a seat that cannot be re-drawn.
        DrawRefused: the rules cannot be met (see `explain`).
    """
    if scope not in SCOPES:
        raise SetupError(_("Unknown kind of draw."))
    if cycle.status == CycleStatus.CLOSED:
        raise SetupError(_("The cycle is closed."))
    seed = new_seed() if seed is None else check_seed(seed)
    seats: dict[int, int] | None = None
    if scope == "cycle":
        reviews = drawable_reviews(cycle)
        if not reviews:
            raise SetupError(_("No review of this cycle has an open seat to draw."))
    elif scope == "review":
        if review is None or review.cycle_id != cycle.id:
            raise SetupError(_("Choose a review of this cycle."))
        if review not in drawable_reviews(cycle):
            raise SetupError(
                _(
                    "%(state)s has no open seat to draw (or its team is closed).",
                    state=review.state.local_name,
                )
            )
        reviews = [review]
    else:
        if replaces is None or replaces.review.cycle_id != cycle.id or not redrawable(replaces):
            raise SetupError(
                _(
                    "This seat cannot be re-drawn: the reviewer still works on the review, the "
                    "seat was re-drawn already, or the team is full or closed."
                )
            )
        review = replaces.review
        reviews = [review]
        seats = {review.id: 1}
    requests = [r for r in _requests(cycle, reviews, seats) if r.seats > 0]
    users = _pool_users(cycle)
    cycle_assignments = _cycle_assignments(cycle)
    load: dict[int, int] = {}
    pairs: set[tuple[int, int]] = set()
    for a in cycle_assignments:
        if a.status in WORKING_STATUSES:
            load[a.reviewer_id] = load.get(a.reviewer_id, 0) + 1
            if a.reviewer.state_id is not None:
                pairs.add((a.reviewer.state_id, a.review.state_id))
    conflicts: dict[int, set[int]] = {}
    for reviewer_id, state_id in db.session.execute(
        select(Assignment.reviewer_id, Review.state_id)
        .join(Review, Review.id == Assignment.review_id)
        .where(
            Assignment.status == AssignmentStatus.CONFLICTED,
            Assignment.reviewer_id.in_([u.id for u in users]),
        )
    ):
        conflicts.setdefault(reviewer_id, set()).add(state_id)
    candidates = [
        Candidate(
            id=u.id,
            name=u.display_name,
            state_id=u.state_id,
            state=u.state.code,
            group=u.state.regional_group.value,
            load=load.get(u.id, 0),
            conflicts=frozenset(conflicts.get(u.id, ())),
        )
        for u in users
    ]
    rules = rules_of(cycle)
    pair_list = sorted(pairs)
    replaces_id = replaces.id if replaces is not None else None
    fingerprint = _fingerprint(rules, requests, candidates, pair_list, replaces_id)
    teams = draw_teams(requests, candidates, rules, pair_list, seed)
    broken = violations(teams, requests, candidates, rules, pair_list)
    if broken:  # the search and the independent check disagree: never store such a draw
        raise RuntimeError(f"draw broke its rules: {broken}")
    codes = dict(db.session.execute(select(State.id, State.code)).all())
    return Plan(
        cycle=cycle,
        scope=scope,
        seed=seed,
        rules=rules,
        requests=requests,
        candidates=candidates,
        pairs=pair_list,
        teams=teams,
        reviews={r.id: r for r in reviews},
        people={u.id: u for u in users},
        replaces=replaces,
        fingerprint=fingerprint,
        codes=codes,
    )


class ReasonNeeded(SetupError):
    """Another draw of the cycle is open: drawing again needs a reason (DESIGN §6)."""


#: Draw statuses (see `app.models.Draw`).
OPEN, CONFIRMED, SET_ASIDE = "open", "confirmed", "set_aside"


def open_draws(cycle: Cycle) -> list[Draw]:
    """The cycle's open draws (one batch at most), in the order they were drawn."""
    return list(
        db.session.scalars(
            select(Draw)
            .where(Draw.cycle_id == cycle.id, Draw.status == OPEN)
            .options(joinedload(Draw.review).joinedload(Review.state))
            .order_by(Draw.id)
        ).all()
    )


def batch_draws(batch: int) -> list[Draw]:
    """Every draw of ``batch``, in the order they were drawn."""
    return list(
        db.session.scalars(
            select(Draw)
            .where(Draw.batch == batch)
            .options(joinedload(Draw.review).joinedload(Review.state))
            .order_by(Draw.id)
        ).all()
    )


def open_draw(
    cycle: Cycle,
    actor: User | None,
    *,
    scope: str,
    review: Review | None = None,
    replaces: Assignment | None = None,
    seed: int | None = None,
    reason: str = "",
) -> list[Draw]:
    """Open a draw: record its seed, who opened it and when, the pool, the rules and the teams
    it gives, before anyone sees them (DESIGN §6). One `Draw` per review, status "open", sharing
    a batch. When another draw of the cycle is open, this is *drawing again*: ``reason`` is
    required, stored on the new draws, and the open ones are set aside (kept in the record).

    Raises:
        ReasonNeeded: another draw of the cycle is open and ``reason`` is blank.
        SetupError, DrawRefused: as `plan_draw` (nothing stored; the caller rolls back).
    """
    # one opening at a time per cycle (PostgreSQL row lock; SQLite serialises writers)
    db.session.refresh(cycle, with_for_update=True)
    reason = (reason or "").strip()
    previous = open_draws(cycle)
    if previous and not reason:
        raise ReasonNeeded(
            _(
                "A draw of this cycle is already open (draw #%(number)d). Drawing again needs "
                "a reason, which is kept in the draw record.",
                number=previous[0].batch or previous[0].id,
            )
        )
    now = clock.now()
    for draw in previous:
        draw.status = SET_ASIDE
        draw.closed_at = now
        draw.closed_by_id = actor.id if actor is not None else None
    plan = plan_draw(cycle, scope=scope, review=review, replaces=replaces, seed=seed)
    pool = plan.pool_json()
    pool["inputs"] = plan.inputs_json()
    stored: list[Draw] = []
    for team in plan.teams:
        draw = Draw(
            cycle_id=cycle.id,
            review_id=team.review_id,
            scope=plan.scope,
            replaces_assignment_id=plan.replaces.id if plan.replaces else None,
            seed=plan.seed,
            rules=plan.rules.as_json(),
            pool=pool,
            result=plan.team_rows(team),
            actor_id=actor.id if actor is not None else None,
            created_at=now,
            status=OPEN,
            reason=reason,
        )
        db.session.add(draw)
        db.session.flush()
        draw.batch = stored[0].id if stored else draw.id
        stored.append(draw)
    db.session.flush()
    return stored


def confirm_open(
    cycle: Cycle, actor: User | None, *, batch: int, fingerprint: str | None = None
) -> list[Draw]:
    """Confirm the open draw ``batch``: run it again with its recorded seed and, if its inputs
    are unchanged, invite the reviewers it drew (first drawn is lead unless the review has one).
    ``fingerprint``: what the confirming page showed (None: the command line, no page).

    Raises:
        SetupError: ``batch`` is not an open draw of ``cycle`` (confirmed or set aside already).
        PoolChanged: the pool, the rules or the teams changed since it was opened, or a
            concurrent invitation took one of its reviewers; nothing was stored.
    """
    db.session.refresh(cycle, with_for_update=True)
    draws = [d for d in batch_draws(batch) if d.cycle_id == cycle.id]
    if not draws or any(d.status != OPEN for d in draws):
        raise SetupError(
            _("This draw is no longer open: it was confirmed or set aside. See the draw record.")
        )
    first = draws[0]
    recorded = first.pool.get("fingerprint")
    if fingerprint is not None and fingerprint != recorded:
        raise PoolChanged(_("This page was out of date: here is the open draw as recorded."))
    replaces = (
        db.session.get(Assignment, first.replaces_assignment_id)
        if first.replaces_assignment_id
        else None
    )
    try:
        plan = plan_draw(
            cycle,
            scope=first.scope,
            review=first.review if first.scope == "review" else None,
            replaces=replaces,
            seed=first.seed,
        )
    except (SetupError, DrawRefused):
        plan = None
    if plan is None or plan.fingerprint != recorded:
        raise PoolChanged(
            _(
                "The reviewer pool, the rules or the teams changed since this draw was opened, "
                "so it cannot be confirmed as it stands. Draw again and give the reason (for "
                "example, the pool changed)."
            )
        )
    try:
        _invite(plan, draws, actor)
    except (IntegrityError, SetupError):
        # a concurrent confirmation or hand assignment invited one of these reviewers first
        db.session.rollback()
        raise PoolChanged(
            _(
                "Someone invited one of these reviewers at the same time, so nothing was "
                "drawn. Draw again and give the reason."
            )
        ) from None
    return draws


def _invite(plan: Plan, draws: Sequence[Draw], actor: User | None) -> None:
    """Invite the reviewers of ``plan``'s teams and mark ``draws`` confirmed."""
    now = clock.now()
    by_review = {d.review_id: d for d in draws}
    for team in plan.teams:
        draw = by_review[team.review_id]
        rows = plan.team_rows(team)
        for row, pick in zip(rows, team.picks, strict=True):
            assignment = cycles.assign_reviewer(
                plan.reviews[team.review_id],
                plan.people[pick.reviewer_id],
                actor,
                is_lead=pick.is_lead,
                draw_id=draw.id,
            )
            row["assignment_id"] = assignment.id
        draw.result = rows
        draw.status = CONFIRMED
        draw.closed_at = now
        draw.closed_by_id = actor.id if actor is not None else None
    db.session.flush()


def set_aside(cycle: Cycle, actor: User | None, *, batch: int, reason: str) -> list[Draw]:
    """Set the open draw ``batch`` aside without drawing again, with a ``reason`` (kept).

    Raises:
        ReasonNeeded: ``reason`` is blank.
        SetupError: ``batch`` is not an open draw of ``cycle``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReasonNeeded(_("Say why the draw is set aside; the reason is kept in the record."))
    draws = [d for d in batch_draws(batch) if d.cycle_id == cycle.id and d.status == OPEN]
    if not draws:
        raise SetupError(
            _("This draw is no longer open: it was confirmed or set aside. See the draw record.")
        )
    now = clock.now()
    for draw in draws:
        draw.status = SET_ASIDE
        draw.closed_at = now
        draw.closed_by_id = actor.id if actor is not None else None
        draw.reason = "\n".join(part for part in (draw.reason, reason) if part)
    db.session.flush()
    return draws


def draw_and_confirm(
    cycle: Cycle,
    actor: User | None,
    *,
    scope: str,
    review: Review | None = None,
    replaces: Assignment | None = None,
    seed: int | None = None,
    reason: str = "",
) -> list[Draw]:
    """Open a draw and confirm it at once (the command line, where nothing is previewed).

    Raises: as `open_draw` and `confirm_open`.
    """
    opened = open_draw(
        cycle, actor, scope=scope, review=review, replaces=replaces, seed=seed, reason=reason
    )
    return confirm_open(cycle, actor, batch=opened[0].batch)


# --- verification ------------------------------------------------------------------------------


@dataclass
class Verification:
    """A draw recomputed from its record. ``verifiable`` False: recorded before draws kept their
    inputs (no recomputation possible). ``recorded`` / ``recomputed``: the team of the draw's
    review as (candidate number, lead) pairs, candidate numbers as in `public_pool`."""

    draw: Draw
    verifiable: bool
    matches: bool
    recorded: list[tuple[int, bool]]
    recomputed: list[tuple[int, bool]]
    refusal: str | None = None


def _numbering(inputs: dict) -> dict[int, int]:
    """Reviewer id → candidate number (1, 2, … by ascending id). The order is kept, so the draw
    computed on numbers picks the same people as on ids: no name or id needs to be shown."""
    ids: set[int] = {c["id"] for c in inputs["candidates"]}
    for request in inputs["requests"]:
        ids.update(m["reviewer_id"] for m in request["members"])
        ids.update(request["barred"])
    return {reviewer_id: n for n, reviewer_id in enumerate(sorted(ids), start=1)}


def public_inputs(draw: Draw) -> dict | None:
    """The draw's inputs with every reviewer replaced by their candidate number (states and
    regional groups kept: what the regime announces), or None for a draw recorded without them.
    Shape: {"requests": [...], "candidates": [...], "pairs": [[a, b], ...]} with state ids."""
    inputs = (draw.pool or {}).get("inputs")
    if not inputs:
        return None
    number = _numbering(inputs)
    return {
        "requests": [
            {
                **r,
                "members": [{**m, "reviewer_id": number[m["reviewer_id"]]} for m in r["members"]],
                "barred": sorted(number[i] for i in r["barred"]),
            }
            for r in inputs["requests"]
        ],
        "candidates": [
            {**c, "id": number[c["id"]], "name": str(number[c["id"]])} for c in inputs["candidates"]
        ],
        "pairs": inputs["pairs"],
    }


def _recompute(inputs: dict, rules: dict, seed: int) -> list[Team]:
    requests = [
        Request(
            review_id=r["review_id"],
            label=r["label"],
            state_id=r["state_id"],
            group=r["group"],
            seats=r["seats"],
            members=tuple(Member(**m) for m in r["members"]),
            barred=frozenset(r["barred"]),
        )
        for r in inputs["requests"]
    ]
    candidates = [{**c, "conflicts": frozenset(c["conflicts"])} for c in inputs["candidates"]]
    return draw_teams(
        requests,
        [Candidate(**c) for c in candidates],
        Rules(**rules),
        [tuple(p) for p in inputs["pairs"]],
        seed,
    )


def verify(draw: Draw) -> Verification:
    """Recompute ``draw`` from its recorded seed, rules and pseudonymous pool (`public_inputs`)
    and compare the team of its review with the recorded one (DESIGN §6). Stores nothing."""
    inputs = (draw.pool or {}).get("inputs")
    if not inputs:
        return Verification(draw, False, False, [], [])
    number = _numbering(inputs)
    recorded = [(number.get(row["reviewer_id"], 0), bool(row["lead"])) for row in draw.result]
    try:
        teams = _recompute(public_inputs(draw), draw.rules, draw.seed)
    except DrawRefused as refused:
        return Verification(draw, True, False, recorded, [], explain(refused))
    recomputed = next(
        (
            [(p.reviewer_id, p.is_lead) for p in t.picks]
            for t in teams
            if t.review_id == draw.review_id
        ),
        [],
    )
    return Verification(draw, True, recorded == recomputed, recorded, recomputed)


@dataclass
class PublicDraw:
    """What a reviewed state may see of a draw (DESIGN §5, §6): reviewers as candidate numbers
    with their state and regional group, never a name. ``pool`` rows: number, state (ISO code),
    group, load (reviews already in the cycle), conflicts (ISO codes); ``requests``: the reviews
    drawn together (state name, seats, members as numbers); ``team``: this review's outcome
    (number, state, group, lead)."""

    pool: list[dict]
    requests: list[dict]
    pairs: list[list[str]]
    team: list[dict]


def public_draw(draw: Draw) -> PublicDraw | None:
    """The pseudonymous record of ``draw`` (see `PublicDraw`), or None for a draw recorded before
    draws kept their inputs."""
    inputs = (draw.pool or {}).get("inputs")
    if not inputs:
        return None
    number = _numbering(inputs)
    shown = {row["id"]: row for row in draw.pool.get("reviewers", [])}
    pool = [
        {
            "number": number[c["id"]],
            "state": c["state"],
            "group": c["group"],
            "load": c["load"],
            "conflicts": shown.get(c["id"], {}).get("conflicts", []),
        }
        for c in inputs["candidates"]
    ]
    requests = [
        {
            "label": r["label"],
            "group": r["group"],
            "seats": r["seats"],
            "members": sorted(number[m["reviewer_id"]] for m in r["members"]),
            "barred": sorted(number[i] for i in r["barred"]),
            "this": r["review_id"] == draw.review_id,
        }
        for r in inputs["requests"]
    ]
    team = [
        {
            "number": number.get(row["reviewer_id"], 0),
            "state": row["state"],
            "state_name": row.get("state_name", row["state"]),
            "group": row["group"],
            "lead": bool(row["lead"]),
        }
        for row in draw.result
    ]
    return PublicDraw(
        sorted(pool, key=lambda row: row["number"]), requests, draw.pool.get("pairs", []), team
    )


def record_of(review: Review) -> Sequence[Draw]:
    """Every draw of ``review`` (open, confirmed, set aside), oldest first."""
    return db.session.scalars(
        select(Draw)
        .where(Draw.review_id == review.id)
        .options(joinedload(Draw.actor))
        .order_by(Draw.id)
    ).all()


def draws_of(cycle: Cycle, review: Review | None = None) -> Sequence[Draw]:
    """Stored draws of ``cycle`` (or of one ``review``), newest first."""
    query = select(Draw).where(Draw.cycle_id == cycle.id)
    if review is not None:
        query = query.where(Draw.review_id == review.id)
    return db.session.scalars(
        query.options(
            joinedload(Draw.review).joinedload(Review.state), joinedload(Draw.actor)
        ).order_by(Draw.id.desc())
    ).all()
