"""Secretariat administration: accounts, cycle listings, participating states, hand assignment.

These operations change data and only flush; the route commits once. Creating accounts, cycles
and reviews and inviting a reviewer are in `app.services.cycles`; the functions here list what
the secretariat's screens show and wrap those operations with the checks that only the
administration screens need (DESIGN §1, §3, §5, §6). Refusals raise `SetupError` with a message
for the person who asked; `AlreadyDone` (a `SetupError`) when a concurrent request — typically a
double click — did the same thing first, and `AccountChanged` when an account form is outdated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.extensions import db
from app.models import (
    ROLE_LABELS,
    Assignment,
    Cycle,
    Framework,
    RegionalGroup,
    Review,
    Role,
    State,
    User,
)
from app.services import account_audit, cycles
from app.services.carry_over import carry_and_close
from app.services.concurrency import fingerprint, is_stale
from app.services.cycles import MIN_PASSWORD_LENGTH, SetupError
from app.services.text_search import contains_any
from workflows import AssignmentStatus, CycleStatus, ReviewStatus
from workflows.base import has_words

#: Review statuses in which the secretariat may still invite a reviewer by hand: before the team
#: starts (pre-invitations), and during evaluation (replacing someone who dropped out).
TEAM_OPEN_STATUSES = (
    ReviewStatus.SELF_ASSESSMENT,
    ReviewStatus.SCREENING,
    ReviewStatus.PEER_ASSIGNMENT,
    ReviewStatus.EVALUATION,
)

#: Review statuses in which a review is over: it needs neither its team nor a focal point.
FINISHED_STATUSES = (ReviewStatus.CLOSED, ReviewStatus.WITHDRAWN)

#: Assignment statuses in which the reviewer still works on the review (DESIGN §4).
WORKING_STATUSES = (AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)

#: Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069): in a
#: name they make the text display as something other than what it is ("Trojan Source",
#: CVE-2021-42574). Joiners (U+200C, U+200D) stay allowed: Persian and Indic names need them.
#: Line and paragraph separators besides the control characters (CR, LF, NEL are category Cc):
#: a name is written in an e-mail header, where a line break cannot go (issue 14).
LINE_BREAKS = frozenset("\u2028\u2029")
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


class AlreadyDone(SetupError):
    """A concurrent request (e.g. a double click) did the same thing first; nothing was stored."""


class AccountChanged(SetupError):
    """The account was saved by someone else after the edit form was rendered."""


# --- accounts ----------------------------------------------------------------------------------


def users_query(
    role: Role | None = None,
    state_id: int | None = None,
    active: bool | None = None,
    text: str = "",
) -> Select:
    """The accounts filtered by role, state and active flag (None: any) and by ``text`` in the
    display name or e-mail, unsorted, each with its state joined as `State` (one query however
    many rows; the caller sorts and pages it)."""
    query = (
        select(User).outerjoin(State, State.id == User.state_id).options(contains_eager(User.state))
    )
    if role is not None:
        query = query.where(User.role == role)
    if state_id is not None:
        query = query.where(User.state_id == state_id)
    if active is not None:
        query = query.where(User.active.is_(active))
    if text.strip():
        query = query.where(contains_any(text.strip(), User.display_name, User.email))
    return query


def list_users(
    role: Role | None = None, state_id: int | None = None, active: bool | None = None
) -> Sequence[User]:
    """Accounts filtered as `users_query`, by display name."""
    query = users_query(role, state_id, active).order_by(User.display_name, User.id)
    return db.session.scalars(query).all()


def all_states() -> Sequence[State]:
    """The UN member states by name."""
    return db.session.scalars(select(State).order_by(State.name)).all()


def check_display_name(display_name: str) -> str:
    """Return ``display_name`` without surrounding spaces, if a person can read it.

    Any script is welcome (DESIGN §3), joiners included; refused are names with no visible
    character (only spaces or zero-width marks) and names with bidirectional override or
    isolate controls (`BIDI_CONTROLS`), which make a name display as something else.
    Raises:
        SetupError: with a message saying which of the two.
    """
    display_name = (display_name or "").strip()
    if not has_words(display_name):
        raise SetupError(_("Please give a display name with visible letters."))
    if any(ch in LINE_BREAKS or unicodedata.category(ch) == "Cc" for ch in display_name):
        raise SetupError(
            _(
                "The display name contains a line break or another control character. Please "
                "write it on one line."
            )
        )
    if any(ch in BIDI_CONTROLS for ch in display_name):
        raise SetupError(
            _(
                "The display name contains invisible text-direction control characters "
                "(U+202A–U+202E or U+2066–U+2069), which can make it display as a different "
                "name. Please type the name again without them."
            )
        )
    return display_name


def check_password(password: str, email: str | None = None) -> str:
    """Return ``password`` if it is long enough, not only spaces or invisible characters, and
    (given the account's ``email``) neither the e-mail address nor containing its local part
    (the part before ``@``, compared without case; NIST SP 800-63B §3.1.1.2: refuse passwords
    derived from the account's own identifiers).

    A password nobody can see is one nobody can type again reliably: it locks the account out.
    Raises:
        SetupError: shorter than `MIN_PASSWORD_LENGTH` characters, without a visible character,
            or derived from the e-mail address.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SetupError(
            _("The password must have at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
        )
    if not has_words(password):
        raise SetupError(
            _("The password cannot be only spaces or invisible characters: use visible ones.")
        )
    if email:
        folded, address = password.casefold(), email.strip().casefold()
        local = address.partition("@")[0]
        if folded == address or (len(local) >= 3 and local in folded):
            raise SetupError(_("The password must not be or contain the e-mail address."))
    return password


def create_account(
    email: str, display_name: str, role: Role, password: str, state: State | None
) -> User:
    """Create an account (see `cycles.create_user`) after the checks of the account form.

    Call it before any other change in the request: when a concurrent request (a double click
    on "Create account") created the same e-mail first, the unique e-mail refuses the insert,
    the session is rolled back and `AlreadyDone` says the account exists — as when it existed
    before.
    Raises:
        SetupError: an unreadable display name, a weak password, and every refusal of
            `cycles.create_user` (duplicate e-mail, missing state).
        AlreadyDone: the same e-mail was created concurrently.
    """
    display_name = check_display_name(display_name)
    check_password(password, email)
    try:
        return cycles.create_user(email, display_name, role, password, state)
    except IntegrityError:
        db.session.rollback()
        email = email.strip().lower()
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            raise  # another constraint failed: not a duplicate
        raise AlreadyDone(
            _("An account with e-mail %(email)s already exists.", email=email)
        ) from None


def account_version(user: User) -> str:
    """The ``base_version`` of the account form: a fingerprint of the fields it edits."""
    return fingerprint([user.display_name, str(user.role), user.state_id, bool(user.active)])


def _describe_account(user: User) -> str:
    """What the account is now, in words: "Peer reviewer, Brazil, deactivated"."""
    parts = [_(ROLE_LABELS[user.role])]
    if user.state is not None:
        parts.append(user.state.name)
    parts.append(_("active") if user.active else _("deactivated"))
    return f"{user.display_name} ({', '.join(parts)})"


def _review_names(rows: Iterable[tuple[str, str]]) -> str:
    """ "Kenya (2027 cycle), Ghana (2028 cycle)" from (state name, cycle name) pairs."""
    return ", ".join(f"{state} ({cycle})" for state, cycle in rows)


def _working_on(user: User) -> list[tuple[int, str, str]]:
    """(state id, state name, cycle name) of every review ``user`` still works on as a reviewer:
    an invited, accepted or submitted assignment on a review neither closed nor withdrawn."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(Review.state_id, State.name, Cycle.name)
            .join(Assignment, Assignment.review_id == Review.id)
            .join(State, State.id == Review.state_id)
            .join(Cycle, Cycle.id == Review.cycle_id)
            .where(
                Assignment.reviewer_id == user.id,
                Assignment.status.in_(WORKING_STATUSES),
                Review.status.not_in(FINISHED_STATUSES),
            )
            .order_by(Cycle.starts_on, Cycle.name, State.name)
        )
    ]


def _open_reviews_left_without_focal_point(user: User) -> list[tuple[str, str]]:
    """(state name, cycle name) of the open reviews of ``user``'s state when ``user`` is its
    only active focal point; empty when another active focal point can take over."""
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.role == Role.FOCAL_POINT,
            User.state_id == user.state_id,
            User.active.is_(True),
            User.id != user.id,
        )
    )
    if others:
        return []
    return [
        tuple(row)
        for row in db.session.execute(
            select(State.name, Cycle.name)
            .select_from(Review)
            .join(State, State.id == Review.state_id)
            .join(Cycle, Cycle.id == Review.cycle_id)
            .where(Review.state_id == user.state_id, Review.status.not_in(FINISHED_STATUSES))
            .order_by(Cycle.starts_on, Cycle.name)
        )
    ]


def _check_reviewer_change(
    user: User, *, role: Role, new_state_id: int | None, deactivating: bool
) -> None:
    """Refuse to take a reviewer off reviews they still work on (DESIGN §4, §5)."""
    working = _working_on(user)
    if not working:
        return
    names = _review_names((state, cycle) for _id, state, cycle in working)
    if deactivating:
        raise SetupError(
            _(
                "%(name)s still works on these reviews: %(reviews)s. Deactivating the account "
                "would leave them stuck; withdraw these assignments first (on each review's "
                "team page), then deactivate the account.",
                name=user.display_name,
                reviews=names,
            )
        )
    if role != Role.REVIEWER:
        raise SetupError(
            _(
                "%(name)s still works on these reviews: %(reviews)s. Withdraw these assignments "
                "first (on each review's team page), then change the role.",
                name=user.display_name,
                reviews=names,
            )
        )
    reviewed = {state_id: state for state_id, state, _cycle in working}
    if new_state_id in reviewed:
        raise SetupError(
            _(
                "%(name)s is reviewing %(state)s; a reviewer never reviews their own state. "
                "Withdraw that assignment first.",
                name=user.display_name,
                state=reviewed[new_state_id],
            )
        )


def _check_focal_point_change(user: User) -> None:
    """Refuse to leave a state with an open review without an active focal point (DESIGN §4:
    the focal point submits the self-assessment, factual comments, responses and progress)."""
    reviews = _open_reviews_left_without_focal_point(user)
    if reviews:
        raise SetupError(
            _(
                "%(name)s is the only active focal point of %(state)s, whose review is still "
                "open: %(reviews)s. Create another focal point for %(state)s first, then "
                "deactivate or change this account.",
                name=user.display_name,
                state=reviews[0][0],
                reviews=_review_names(reviews),
            )
        )


def update_user(
    user: User,
    actor: User,
    *,
    display_name: str,
    role: Role,
    state: State | None,
    active: bool,
    new_password: str = "",
    base_version: str | None = None,
) -> User:
    """Change an account's display name, role, state, active flag and (optionally) password.

    ``base_version`` is the `account_version` the form was rendered from (None: not checked);
    the account row is locked and re-read before it is compared. Accounts are deactivated,
    never deleted: their history stays attributable; deactivating ends every session of the
    account, so that re-activating it later does not revive an old browser session.

    Refused (DESIGN §1, §4, §5): a secretariat member deactivating their own account or taking
    away their own secretariat role (nobody would be left to undo it); deactivating a peer
    reviewer, or changing their role, while they work on a review (an invited, accepted or
    submitted assignment on a review neither closed nor withdrawn), or moving them to a state
    they are reviewing; deactivating, or changing the role or state of, the only active focal
    point of a state whose review is open.

    Raises:
        AccountChanged: the account changed since ``base_version``; nothing was stored.
        SetupError: any of the refusals above; a focal point or reviewer without a state; an
            unreadable display name (`check_display_name`); a new password that is too short
            or only spaces (`check_password`).
    """
    db.session.refresh(user, with_for_update=True)
    if is_stale(base_version, account_version(user)):
        raise AccountChanged(
            _(
                "Someone else saved this account after you opened this form. It is now: "
                "%(now)s. Your entries are kept below (type the new password again if you "
                "meant to set one); check them and save again to replace what was saved.",
                now=_describe_account(user),
            )
        )
    display_name = check_display_name(display_name)
    if role != Role.SECRETARIAT and state is None:
        raise SetupError(_("Focal points and peer reviewers must belong to a state."))
    if new_password:
        check_password(new_password, user.email)
    if user.id == actor.id and not active:
        raise SetupError(_("You cannot deactivate your own account."))
    if user.id == actor.id and role != Role.SECRETARIAT:
        raise SetupError(_("You cannot take away your own secretariat role."))
    new_state_id = state.id if state is not None and role != Role.SECRETARIAT else None
    deactivating = user.active and not active
    if user.role == Role.REVIEWER:
        _check_reviewer_change(
            user, role=role, new_state_id=new_state_id, deactivating=deactivating
        )
    if (
        user.role == Role.FOCAL_POINT
        and user.active
        and (deactivating or role != Role.FOCAL_POINT or new_state_id != user.state_id)
    ):
        _check_focal_point_change(user)
    _audit_changes(user, actor, role=role, new_state_id=new_state_id, active=active)
    if new_password:
        account_audit.record("password_reset", subject=user, actor=actor)
    user.display_name = display_name
    user.role = role
    user.state_id = new_state_id
    user.active = active
    if deactivating:
        user.end_sessions()
    if new_password:
        user.set_password(new_password)
    db.session.flush()
    return user


def _audit_changes(
    user: User, actor: User, *, role: Role, new_state_id: int | None, active: bool
) -> None:
    """Record in the account audit log what `update_user` is about to change (issue 14)."""
    if role != user.role:
        account_audit.record(
            "role_changed",
            subject=user,
            actor=actor,
            detail={"from": str(user.role.value), "to": str(role.value)},
        )
    if new_state_id != user.state_id:
        codes = {
            s.id: s.code
            for s in db.session.scalars(
                select(State).where(State.id.in_([i for i in (user.state_id, new_state_id) if i]))
            )
        }
        account_audit.record(
            "state_changed",
            subject=user,
            actor=actor,
            detail={"from": codes.get(user.state_id, ""), "to": codes.get(new_state_id, "")},
        )
    if user.active != active:
        account_audit.record("reactivated" if active else "deactivated", subject=user, actor=actor)


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


def cycle_reviews_query(
    cycle: Cycle,
    status: ReviewStatus | None = None,
    group: RegionalGroup | None = None,
) -> Select:
    """The cycle's reviews, each with its state (joined as `State` for sorting), filtered by
    review status and the state's regional group (None: any); unsorted."""
    query = (
        select(Review)
        .join(State, State.id == Review.state_id)
        .where(Review.cycle_id == cycle.id)
        .options(contains_eager(Review.state), selectinload(Review.deadlines))
    )
    if status is not None:
        query = query.where(Review.status == status)
    if group is not None:
        query = query.where(State.regional_group == group)
    return query


def cycle_reviews(cycle: Cycle) -> Sequence[Review]:
    """The cycle's reviews with their state and deadlines, by state name."""
    return db.session.scalars(cycle_reviews_query(cycle).order_by(State.name)).all()


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


def add_states(cycle: Cycle, state_ids: Iterable[int], actor: User | None = None) -> list[Review]:
    """Add several participating states to ``cycle`` at once: one review each (with its stage
    deadlines and pre-filled section 1), all or none.

    Call it before any other change in the request: when a concurrent request (a double click)
    added one of the states first, the unique (cycle, state) refuses the insert, the session is
    rolled back and `AlreadyDone` names the state — as when it took part before.
    Returns the new reviews, by state name.
    Raises:
        SetupError: no state chosen; an unknown state; a state already in the cycle; a closed
            cycle (see `cycles.add_review`).
        AlreadyDone: one of the states was added concurrently.
    """
    ids = sorted(set(state_ids))
    if not ids:
        raise SetupError(_("Choose at least one state to add."))
    states = db.session.scalars(select(State).where(State.id.in_(ids)).order_by(State.name)).all()
    if len(states) != len(ids):
        raise SetupError(_("One of the chosen states is not a UN member state in Pillars."))
    cycle_id = cycle.id
    try:
        added = cycles.add_reviews(cycle, list(states))
    except IntegrityError:
        db.session.rollback()
        taken = db.session.scalar(
            select(State.name)
            .join(Review, Review.state_id == State.id)
            .where(Review.cycle_id == cycle_id, State.id.in_(ids))
            .order_by(State.name)
            .limit(1)
        )
        if taken is None:
            raise  # another constraint failed: not a duplicate
        raise AlreadyDone(_("%(state)s already takes part in this cycle.", state=taken)) from None
    if cycle.status == CycleStatus.OPEN:
        # the cycle opened before these states joined: carry over, and close a previous review
        # still in follow-up into the new one, as `open_cycle` did for others (``actor``: who
        # added them)
        carry_and_close(added, actor)
    return added


# --- review teams ------------------------------------------------------------------------------


def team_of(review: Review) -> Sequence[Assignment]:
    """Every assignment of ``review`` (any status: history is kept), with reviewer and state."""
    return db.session.scalars(
        select(Assignment)
        .where(Assignment.review_id == review.id)
        .options(joinedload(Assignment.reviewer).joinedload(User.state))
        .order_by(Assignment.is_lead.desc(), Assignment.created_at, Assignment.id)
    ).all()


def working_members(review: Review) -> Sequence[Assignment]:
    """The assignments of ``review`` whose reviewer still works on it (invited, accepted or
    submitted), with reviewer and state."""
    return db.session.scalars(
        select(Assignment)
        .where(Assignment.review_id == review.id, Assignment.status.in_(WORKING_STATUSES))
        .options(joinedload(Assignment.reviewer).joinedload(User.state))
        .order_by(Assignment.id)
    ).all()


def reviewer_candidates(review: Review) -> Sequence[User]:
    """Active peer reviewers not yet on ``review`` in any status, with their state, by name.

    Nationals of the reviewed state are listed too (the page marks them): choosing one is
    refused with the rule's reason (DESIGN §5), which tells the secretariat more than a
    silently shorter list.
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

    Call it before any other change in the request: when a concurrent request (a double click)
    invited the same reviewer first, the unique (review, reviewer) refuses the insert, the
    session is rolled back and `AlreadyDone` says so — as when they were on the review before.
    Raises:
        SetupError: the review no longer takes new reviewers (past evaluation, withdrawn); no
            justification with visible text; an unknown or inactive reviewer; and every refusal
            of `cycles.assign_reviewer` (not a reviewer, own state, already on the review, a
            second lead).
        AlreadyDone: the same reviewer was invited concurrently.
    """
    if review.status not in TEAM_OPEN_STATUSES:
        raise SetupError(_("Reviewers can no longer be assigned to this review."))
    justification = (justification or "").strip()
    if not has_words(justification):
        raise SetupError(_("Please give the justification for this assignment by hand."))
    reviewer = db.session.get(User, reviewer_id)
    if reviewer is None or not reviewer.active:
        raise SetupError(_("Choose an active peer reviewer."))
    review_id = review.id
    try:
        return cycles.assign_reviewer(
            review, reviewer, actor, is_lead=is_lead, justification=justification
        )
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(Assignment).where(
                Assignment.review_id == review_id, Assignment.reviewer_id == reviewer_id
            )
        )
        if existing is None:
            raise  # another constraint failed: not a duplicate
        raise AlreadyDone(
            _(
                "%(name)s is already on this review (status: %(status)s). Reinstate them instead "
                "of inviting again.",
                name=existing.reviewer.display_name,
                status=existing.status.value,
            )
        ) from None


def team_warnings(review: Review, assignment: Assignment) -> list[str]:
    """Warnings (not refusals) about a reviewer just invited by hand onto ``review``: the team
    now has more working members than the cycle's team size, or another working member comes
    from the same regional group (DESIGN §6: members from distinct regional groups).

    The secretariat may have reasons (a reserve, a scarce expertise); the warning makes the
    departure from the rules a conscious one.
    """
    members = working_members(review)
    warnings = []
    size = review.cycle.team_size
    if len(members) > size:
        warnings.append(
            _(
                "The team now has %(count)d reviewers invited or working, more than the "
                "cycle's team size of %(size)d.",
                count=len(members),
                size=size,
            )
        )
    state = assignment.reviewer.state
    if state is not None:
        same_group = [
            m.reviewer.display_name
            for m in members
            if m.id != assignment.id
            and m.reviewer.state is not None
            and m.reviewer.state.regional_group == state.regional_group
        ]
        if same_group:
            warnings.append(
                _(
                    "%(name)s is from the same regional group (%(group)s) as %(others)s; the "
                    "draw's rules ask for team members from distinct regional groups.",
                    name=assignment.reviewer.display_name,
                    group=state.regional_group.value,
                    others=", ".join(same_group),
                )
            )
    return warnings
