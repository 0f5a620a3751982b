"""Secretariat administration: accounts, cycle listings, participating states, hand assignment.

These operations change data and only flush; the route commits once. Creating accounts, cycles
and reviews and inviting a reviewer are in `app.services.cycles`; the functions here list what
the secretariat's screens show and wrap those operations with the checks that only the
administration screens need (DESIGN §1, §3, §5, §6). Refusals raise `SetupError` with a message
for the person who asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Assignment, Cycle, Framework, Review, Role, State, User
from app.services import cycles
from app.services.cycles import MIN_PASSWORD_LENGTH, SetupError
from workflows import AssignmentStatus, ReviewStatus
from workflows.assignment import ACTIVE

#: Review statuses in which the secretariat may still invite a reviewer by hand: before the team
#: starts (pre-invitations), and during evaluation (replacing someone who dropped out).
TEAM_OPEN_STATUSES = (
    ReviewStatus.SELF_ASSESSMENT,
    ReviewStatus.SCREENING,
    ReviewStatus.PEER_ASSIGNMENT,
    ReviewStatus.EVALUATION,
)


# --- accounts ----------------------------------------------------------------------------------


def list_users(
    role: Role | None = None, state_id: int | None = None, active: bool | None = None
) -> Sequence[User]:
    """Accounts filtered by role, state and active flag (None: any), by display name.

    One query: each user's state is loaded with it.
    """
    query = select(User).options(joinedload(User.state)).order_by(User.display_name, User.id)
    if role is not None:
        query = query.where(User.role == role)
    if state_id is not None:
        query = query.where(User.state_id == state_id)
    if active is not None:
        query = query.where(User.active.is_(active))
    return db.session.scalars(query).all()


def all_states() -> Sequence[State]:
    """The UN member states by name."""
    return db.session.scalars(select(State).order_by(State.name)).all()


def update_user(
    user: User,
    actor: User,
    *,
    display_name: str,
    role: Role,
    state: State | None,
    active: bool,
    new_password: str = "",
) -> User:
    """Change an account's display name, role, state, active flag and (optionally) password.

    Accounts are deactivated, never deleted: their history stays attributable. A secretariat
    member cannot deactivate their own account or take away their own secretariat role (nobody
    would be left to undo it). A peer reviewer with open assignments (invited, accepted,
    submitted) keeps the reviewer role, and cannot be moved to a state they are reviewing
    (DESIGN §5: a reviewer never reviews their own state) until those assignments are withdrawn.

    Raises:
        SetupError: any of the refusals above; a focal point or reviewer without a state; an
            empty display name; a new password shorter than 12 characters.
    """
    display_name = display_name.strip()
    if not display_name:
        raise SetupError(_("Please give a display name."))
    if role != Role.SECRETARIAT and state is None:
        raise SetupError(_("Focal points and peer reviewers must belong to a state."))
    if new_password and len(new_password) < MIN_PASSWORD_LENGTH:
        raise SetupError(_("The password must have at least 12 characters."))
    if user.id == actor.id and not active:
        raise SetupError(_("You cannot deactivate your own account."))
    if user.id == actor.id and role != Role.SECRETARIAT:
        raise SetupError(_("You cannot take away your own secretariat role."))
    new_state_id = state.id if state is not None and role != Role.SECRETARIAT else None
    if user.role == Role.REVIEWER:
        open_reviews = db.session.execute(
            select(Review.state_id, State.name)
            .join(Assignment, Assignment.review_id == Review.id)
            .join(State, State.id == Review.state_id)
            .where(Assignment.reviewer_id == user.id, Assignment.status.in_(ACTIVE))
        ).all()
        if open_reviews and role != Role.REVIEWER:
            raise SetupError(
                _(
                    "%(name)s still has %(count)d open assignment(s); withdraw them before "
                    "changing the role.",
                    name=user.display_name,
                    count=len(open_reviews),
                )
            )
        reviewed = dict(open_reviews)
        if new_state_id in reviewed:
            raise SetupError(
                _(
                    "%(name)s is reviewing %(state)s; a reviewer never reviews their own state. "
                    "Withdraw that assignment first.",
                    name=user.display_name,
                    state=reviewed[new_state_id],
                )
            )
    user.display_name = display_name
    user.role = role
    user.state_id = new_state_id
    user.active = active
    if new_password:
        user.set_password(new_password)
    db.session.flush()
    return user


# --- cycles ------------------------------------------------------------------------------------


def frameworks() -> Sequence[Framework]:
    """Every loaded framework version, newest version first."""
    return db.session.scalars(
        select(Framework).order_by(Framework.code, Framework.version.desc())
    ).all()


def cycles_with_review_counts() -> list[tuple[Cycle, int]]:
    """Every cycle (newest start first) with its number of reviews, in one query."""
    counts = (
        select(Review.cycle_id, func.count(Review.id).label("n"))
        .group_by(Review.cycle_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Cycle, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.cycle_id == Cycle.id)
        .options(joinedload(Cycle.framework))
        .order_by(Cycle.starts_on.desc(), Cycle.id.desc())
    ).all()
    return [(cycle, int(n)) for cycle, n in rows]


def cycle_reviews(cycle: Cycle) -> Sequence[Review]:
    """The cycle's reviews with their state, by state name."""
    return db.session.scalars(
        select(Review)
        .join(State, State.id == Review.state_id)
        .where(Review.cycle_id == cycle.id)
        .options(joinedload(Review.state))
        .order_by(State.name)
    ).all()


def accepted_counts(review_ids: Iterable[int]) -> dict[int, int]:
    """Review id → number of reviewers on its team (accepted or submitted), in one query."""
    ids = list(review_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Assignment.review_id, func.count(Assignment.id))
            .where(
                Assignment.review_id.in_(ids),
                Assignment.status.in_([AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED]),
            )
            .group_by(Assignment.review_id)
        ).all()
    )


def states_not_in(cycle: Cycle) -> Sequence[State]:
    """UN member states not yet taking part in ``cycle``, by regional group then name."""
    taken = select(Review.state_id).where(Review.cycle_id == cycle.id)
    return db.session.scalars(
        select(State).where(State.id.not_in(taken)).order_by(State.regional_group, State.name)
    ).all()


def add_states(cycle: Cycle, state_ids: Iterable[int]) -> list[Review]:
    """Add several participating states to ``cycle`` at once: one review each (with its stage
    deadlines and pre-filled section 1), all or none.

    Returns the new reviews, by state name.
    Raises:
        SetupError: no state chosen; an unknown state; a state already in the cycle; a closed
            cycle (see `cycles.add_review`).
    """
    ids = sorted(set(state_ids))
    if not ids:
        raise SetupError(_("Choose at least one state to add."))
    states = db.session.scalars(select(State).where(State.id.in_(ids)).order_by(State.name)).all()
    if len(states) != len(ids):
        raise SetupError(_("One of the chosen states is not a UN member state in Pillars."))
    return [cycles.add_review(cycle, state) for state in states]


# --- review teams ------------------------------------------------------------------------------


def team_of(review: Review) -> Sequence[Assignment]:
    """Every assignment of ``review`` (any status: history is kept), with reviewer and state."""
    return db.session.scalars(
        select(Assignment)
        .where(Assignment.review_id == review.id)
        .options(joinedload(Assignment.reviewer).joinedload(User.state))
        .order_by(Assignment.is_lead.desc(), Assignment.created_at, Assignment.id)
    ).all()


def reviewer_candidates(review: Review) -> Sequence[User]:
    """Active peer reviewers not yet on ``review`` in any status, with their state, by name.

    Nationals of the reviewed state are listed too: choosing one is refused with the rule's
    reason (DESIGN §5), which tells the secretariat more than a silently shorter list.
    """
    on_review = select(Assignment.reviewer_id).where(Assignment.review_id == review.id)
    return db.session.scalars(
        select(User)
        .where(User.role == Role.REVIEWER, User.active.is_(True), User.id.not_in(on_review))
        .options(joinedload(User.state))
        .order_by(User.display_name, User.id)
    ).all()


def assign_by_hand(
    review: Review, reviewer_id: int, actor: User, *, is_lead: bool, justification: str
) -> Assignment:
    """Invite a reviewer onto ``review`` by hand, with the recorded justification (DESIGN §6).

    Raises:
        SetupError: the review no longer takes new reviewers (past evaluation, withdrawn); no
            justification; an unknown or inactive reviewer; and every refusal of
            `cycles.assign_reviewer` (not a reviewer, own state, already on the review, a second
            lead).
    """
    if review.status not in TEAM_OPEN_STATUSES:
        raise SetupError(_("Reviewers can no longer be assigned to this review."))
    justification = justification.strip()
    if not justification:
        raise SetupError(_("Please give the justification for this assignment by hand."))
    reviewer = db.session.get(User, reviewer_id)
    if reviewer is None or not reviewer.active:
        raise SetupError(_("Choose an active peer reviewer."))
    return cycles.assign_reviewer(
        review, reviewer, actor, is_lead=is_lead, justification=justification
    )
