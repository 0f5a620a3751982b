"""Draws by lot against the database: the reviewer pool, previews and stored draws (DESIGN §6).

The **reviewer pool** of a cycle is every active peer reviewer with a state whose state takes
part in the cycle: taking part is the nomination (the UNCAC and UPR mechanisms draw reviewers
from the participating states), so there is no separate nomination list to keep in step.

A draw is planned (`plan_draw`, nothing written: the preview) and then confirmed
(`confirm_draw`), which plans again with the same seed and refuses with `PoolChanged` when the
inputs — rules, candidates, their workload, the teams — differ from the preview's fingerprint.
Confirmation stores one `Draw` per review and invites the drawn reviewers through
`cycles.assign_reviewer` (status invited, one TransitionLog row each). Functions flush, never
commit.
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
    """Whether the seat of ``assignment`` may be re-drawn: its reviewer dropped out, no draw
    replaced it yet, and the review still forms its team with an open seat."""
    review = assignment.review
    if assignment.status not in DROPPED or review.status not in TEAM_OPEN_STATUSES:
        return False
    if review.cycle.status == CycleStatus.CLOSED:
        return False
    replaced = db.session.scalar(
        select(Draw.id).where(Draw.replaces_assignment_id == assignment.id).limit(1)
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
                    state=review.state.name,
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


def confirm_draw(
    cycle: Cycle,
    actor: User | None,
    *,
    scope: str,
    seed: int,
    fingerprint: str | None,
    review: Review | None = None,
    replaces: Assignment | None = None,
) -> list[Draw]:
    """Re-run the previewed draw with its ``seed`` and store it: one `Draw` per review and an
    invitation per drawn reviewer (``actor`` None: the command line). ``fingerprint`` None skips
    the comparison (the command line plans and stores in one go).

    Raises:
        PoolChanged: the inputs differ from the preview's, or a concurrent confirmation
            invited the same reviewers first; nothing was stored.
        SetupError, DrawRefused: as `plan_draw`.
    """
    # one confirmation at a time per cycle (PostgreSQL row lock; SQLite serialises writers):
    # a second one, e.g. a double click, then sees the first one's invitations
    db.session.refresh(cycle, with_for_update=True)
    plan = plan_draw(cycle, scope=scope, review=review, replaces=replaces, seed=seed)
    if fingerprint is not None and plan.fingerprint != fingerprint:
        raise PoolChanged(
            _(
                "The reviewer pool, the rules or the teams changed since this preview, so "
                "nothing was drawn. Here is a new preview with the same seed; check it and "
                "confirm again."
            )
        )
    try:
        return store_plan(plan, actor)
    except (IntegrityError, SetupError):
        # a concurrent confirmation or hand assignment invited one of these reviewers first
        db.session.rollback()
        raise PoolChanged(
            _(
                "Someone drew for these reviews at the same time, so nothing was drawn. Here "
                "is a new preview with the same seed; check it and confirm again."
            )
        ) from None


def store_plan(plan: Plan, actor: User | None) -> list[Draw]:
    """Store ``plan``: a `Draw` per review, then the invitations (first drawn is lead unless the
    review has one). Returns the draws, in the plan's order."""
    now = clock.now()
    stored = []
    pool = plan.pool_json()
    for team in plan.teams:
        review = plan.reviews[team.review_id]
        draw = Draw(
            cycle_id=plan.cycle.id,
            review_id=review.id,
            scope=plan.scope,
            replaces_assignment_id=plan.replaces.id if plan.replaces else None,
            seed=plan.seed,
            rules=plan.rules.as_json(),
            pool=pool,
            result=[],
            actor_id=actor.id if actor is not None else None,
            created_at=now,
        )
        db.session.add(draw)
        db.session.flush()
        rows = plan.team_rows(team)
        for row, pick in zip(rows, team.picks, strict=True):
            assignment = cycles.assign_reviewer(
                review,
                plan.people[pick.reviewer_id],
                actor,
                is_lead=pick.is_lead,
                draw_id=draw.id,
            )
            row["assignment_id"] = assignment.id
        draw.result = rows
        stored.append(draw)
    db.session.flush()
    return stored


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
