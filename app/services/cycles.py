"""Setting up a cycle: create it, add participating states (one review each), assign reviewers.

Deadlines (DESIGN §8): each stage's deadline is the end of day (23:59:59) in the cycle's IANA
zone, counted from ``Cycle.starts_on`` by the cycle's stage durations, stored in UTC.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, normalise_language
from app.models import (
    ORGANISATION_ROLES,
    Answer,
    Assignment,
    Choice,
    Cycle,
    Framework,
    FrameworkSection,
    Question,
    Review,
    ReviewDeadline,
    Role,
    StakeholderKind,
    State,
    TreatyRatification,
    User,
)
from app.models.audit import TransitionLog
from app.services import clock, notification_rules
from app.services.reference import TREATIES, TREATY_NAMES
from workflows import AssignmentStatus, CycleStatus

#: Minimum password length for every account (NIST SP 800-63B asks for at least 8; we ask 12).
MIN_PASSWORD_LENGTH = 12


class SetupError(ValueError):
    """A setup request that cannot be honoured; the message is for the person who asked."""


#: Years a cycle may start in: deadlines must stay far from the calendar's ends.
START_YEARS = range(2000, 2101)
#: The longest a stage may last, in days (five years).
MAX_STAGE_DAYS = 1826

#: Stage → the cycle attribute giving its duration in days, in order.
STAGES = [
    ("self_assessment", "self_assessment_days"),
    ("evaluation", "evaluation_days"),
    ("factual_check", "factual_check_days"),
    ("response", "response_days"),
    ("follow_up", "follow_up_days"),
]


#: IANA zone names a cycle may use: the tz database's zones, without the server-dependent
#: ``localtime``, the placeholder ``Factory`` and the ``posix/`` and ``right/`` copies that the
#: tzdata package does not ship.
IANA_ZONES = frozenset(
    zone
    for zone in available_timezones()
    if zone not in {"Factory", "localtime", "posixrules"}
    and not zone.startswith(("posix/", "right/"))
)


def check_time_zone(zone: str) -> str:
    """Return ``zone`` if it is an IANA time zone name (see `IANA_ZONES`).

    Raises:
        SetupError: for any other name, with a message naming it.
    """
    if zone not in IANA_ZONES:
        raise SetupError(_("Unknown time zone: %(zone)s", zone=zone))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SetupError(_("Unknown time zone: %(zone)s", zone=zone)) from None
    return zone


def create_cycle(
    name: str, framework: Framework, starts_on: date, time_zone: str = "UTC", **durations: int
) -> Cycle:
    """Create a cycle in planning; ``durations`` are stage lengths in days (see `STAGES`).

    Raises:
        SetupError: duplicate name, unknown zone, a start outside `START_YEARS`, or a stage
            duration outside 1–`MAX_STAGE_DAYS` days.
    """
    name = name.strip()
    if db.session.scalar(select(Cycle.id).where(Cycle.name == name)) is not None:
        raise SetupError(_("A cycle named %(name)s already exists.", name=name))
    if starts_on.year not in START_YEARS:
        raise SetupError(
            _(
                "The start date must be between %(first)d and %(last)d.",
                first=START_YEARS.start,
                last=START_YEARS.stop - 1,
            )
        )
    for attribute, days in durations.items():
        if attribute.endswith("_days") and not 1 <= int(days) <= MAX_STAGE_DAYS:
            raise SetupError(_("Each stage lasts between 1 and %(max)d days.", max=MAX_STAGE_DAYS))
    cycle = Cycle(
        name=name,
        framework_id=framework.id,
        starts_on=starts_on,
        time_zone=check_time_zone(time_zone),
        status=CycleStatus.PLANNING,
        **durations,
    )
    db.session.add(cycle)
    db.session.flush()
    return cycle


def stage_deadlines(cycle: Cycle) -> dict[str, object]:
    """Stage → aware UTC instant, from the cycle's start date and stage durations."""
    day = cycle.starts_on
    result = {}
    for stage, attribute in STAGES:
        day = day + timedelta(days=getattr(cycle, attribute))
        result[stage] = clock.end_of_day(day, cycle.time_zone)
    return result


def add_review(cycle: Cycle, state: State) -> Review:
    """Add ``state`` to ``cycle``: one review, its stage deadlines, section 1 pre-filled.

    Raises:
        SetupError: the state already takes part in the cycle, or the cycle is closed.
    """
    return add_reviews(cycle, [state])[0]


def add_reviews(cycle: Cycle, states: list[State]) -> list[Review]:
    """Add each of ``states`` to ``cycle`` (see `add_review`) in a bounded number of queries
    however many states; flush; return the reviews in the order of ``states``.

    Raises:
        SetupError: a state already takes part in the cycle (the first by name is named), or the
            cycle is closed.
    """
    if cycle.status == CycleStatus.CLOSED:
        raise SetupError(_("The cycle is closed."))
    taken = db.session.scalar(
        select(State.name)
        .join(Review, Review.state_id == State.id)
        .where(Review.cycle_id == cycle.id, State.id.in_([s.id for s in states]))
        .order_by(State.name)
        .limit(1)
    )
    if taken is not None:
        raise SetupError(_("%(state)s already takes part in this cycle.", state=taken))
    now = clock.now()
    reviews = [Review(cycle=cycle, state=state, status_changed_at=now) for state in states]
    db.session.add_all(reviews)
    db.session.flush()
    deadlines = stage_deadlines(cycle)
    db.session.add_all(
        ReviewDeadline(review_id=review.id, stage=stage, due_at=due_at)
        for review in reviews
        for stage, due_at in deadlines.items()
    )
    prefill_reviews(reviews)
    db.session.flush()
    return reviews


def prefill_reviews(reviews: list[Review]) -> int:
    """Pre-fill section 1 answers of ``reviews`` (all of one cycle) from each state's treaty
    ratifications, in two queries; return the answers written.

    Questions with ``prefill: core_treaties`` or ``optional_protocols`` get a yes / partial / no
    choice (all, some or none ratified) and a narrative listing each instrument's status, citing
    the UN Treaty Collection data (2022). The focal point can correct both.

    The narrative is written in the language of the state's focal point (the stored choice of
    its first active focal point account, by id), in English when the state has none yet: it is
    the state's draft answer, which it then reads and corrects (issue 15).
    """
    if not reviews:
        return 0
    questions = db.session.scalars(
        select(Question)
        .join(FrameworkSection)
        .where(
            FrameworkSection.framework_id == reviews[0].cycle.framework_id,
            Question.prefill.is_not(None),
        )
    ).all()
    if not questions:
        return 0
    ratifications: dict[int, dict[str, TreatyRatification]] = {}
    for record in db.session.scalars(
        select(TreatyRatification).where(
            TreatyRatification.state_id.in_([r.state_id for r in reviews])
        )
    ):
        ratifications.setdefault(record.state_id, {})[record.treaty] = record
    languages = _focal_point_languages([r.state_id for r in reviews])
    written = 0
    for review in reviews:
        with force_locale(languages.get(review.state_id, DEFAULT_LANGUAGE)):
            for question in questions:
                answer = _prefilled_answer(review, question, ratifications.get(review.state_id, {}))
                if answer is not None:
                    db.session.add(answer)
                    written += 1
    return written


def _focal_point_languages(state_ids: list[int]) -> dict[int, str]:
    """State id → the language its first active focal point account (by id) chose; states
    without one, or whose focal point chose none, are left out (one query)."""
    languages: dict[int, str] = {}
    for state_id, locale in db.session.execute(
        select(User.state_id, User.locale)
        .where(
            User.role == Role.FOCAL_POINT,
            User.active.is_(True),
            User.state_id.in_(state_ids),
        )
        .order_by(User.id)
    ):
        language = normalise_language(locale)
        if language and state_id not in languages:
            languages[state_id] = language
    return languages


def _prefilled_answer(
    review: Review, question: Question, ratifications: dict[str, TreatyRatification]
) -> Answer | None:
    """The pre-filled answer of ``review`` to ``question`` from the state's ``ratifications``
    (treaty code → record), or None when the question is not pre-filled from treaties."""
    kind = {"core_treaties": "core", "optional_protocols": "protocol"}.get(question.prefill)
    if kind is None:
        return None
    treaties = [code for code, (_s, _t, k) in TREATIES.items() if k == kind]
    parties = [
        t for t in treaties if t in ratifications and ratifications[t].status == "state party"
    ]
    if len(parties) == len(treaties):
        choice = Choice.YES
    elif parties:
        choice = Choice.PARTIAL
    else:
        choice = Choice.NO
    lines = [
        _(
            "%(parties)d of %(total)d instruments ratified or acceded to (pre-filled from UN "
            "Treaty Collection status data, 2022; please check):",
            parties=len(parties),
            total=len(treaties),
        )
    ]
    for code in treaties:
        treaty = str(TREATY_NAMES[code])
        record = ratifications.get(code)
        if record is None:
            lines.append(_("- %(treaty)s: no data", treaty=treaty))
        elif record.status == "state party":
            # the year as written, not as a grouped number
            year = str(record.year)
            lines.append(_("- %(treaty)s: state party since %(year)s", treaty=treaty, year=year))
        elif record.status == "signatory state":
            lines.append(_("- %(treaty)s: signed, not ratified", treaty=treaty))
        else:
            lines.append(_("- %(treaty)s: no action", treaty=treaty))
    narrative = "\n".join(lines)
    return Answer(
        review_id=review.id,
        question_id=question.id,
        choice=choice,
        narrative=narrative,
        prefilled=True,
    )


def assign_reviewer(
    review: Review,
    reviewer: User,
    actor: User | None,
    *,
    is_lead: bool = False,
    justification: str = "",
    draw_id: int | None = None,
) -> Assignment:
    """Invite ``reviewer`` onto ``review``, by hand or as drawn by lot (DESIGN §5, §6).

    ``actor`` None is the command line; ``draw_id`` names the stored `Draw` that picked the
    reviewer (recorded in the invitation's TransitionLog payload).

    Raises:
        SetupError: not a reviewer; no state; the reviewed state's own national; already on the
            review; a second lead.
    """
    if reviewer.role != Role.REVIEWER:
        raise SetupError(_("%(name)s is not a peer reviewer.", name=reviewer.display_name))
    if reviewer.state_id is None:
        raise SetupError(
            _(
                "%(name)s has no state; a reviewer without a state cannot be assigned.",
                name=reviewer.display_name,
            )
        )
    if reviewer.state_id == review.state_id:
        raise SetupError(
            _(
                "%(name)s is a national of %(state)s: a reviewer never reviews their own state.",
                name=reviewer.display_name,
                state=review.state.local_name,
            )
        )
    existing = db.session.scalar(
        select(Assignment).where(
            Assignment.review_id == review.id, Assignment.reviewer_id == reviewer.id
        )
    )
    conflicted_cycle = db.session.scalar(
        select(Cycle.name)
        .join(Review, Review.cycle_id == Cycle.id)
        .join(Assignment, Assignment.review_id == Review.id)
        .where(
            Assignment.reviewer_id == reviewer.id,
            Assignment.status == AssignmentStatus.CONFLICTED,
            Review.state_id == review.state_id,
        )
        .limit(1)
    )
    if conflicted_cycle is not None:
        raise SetupError(
            _(
                "%(name)s declared a conflict of interest with %(state)s (%(cycle)s): a reviewer "
                "never reviews a state they declared a conflict with.",
                name=reviewer.display_name,
                state=review.state.local_name,
                cycle=conflicted_cycle,
            )
        )
    if existing is not None:
        raise SetupError(
            _(
                "%(name)s is already on this review (status: %(status)s). Reinstate them instead "
                "of inviting again.",
                name=reviewer.display_name,
                status=existing.status.value,
            )
        )
    if is_lead:
        lead = db.session.scalar(
            select(Assignment.id).where(
                Assignment.review_id == review.id,
                Assignment.is_lead.is_(True),
                Assignment.status.in_(
                    [
                        AssignmentStatus.INVITED,
                        AssignmentStatus.ACCEPTED,
                        AssignmentStatus.SUBMITTED,
                    ]
                ),
            )
        )
        if lead is not None:
            raise SetupError(_("This review already has a lead reviewer."))
    assignment = Assignment(
        review_id=review.id,
        reviewer_id=reviewer.id,
        is_lead=is_lead,
        status=AssignmentStatus.INVITED,
        created_by_id=actor.id if actor is not None else None,
        justification=justification,
    )
    db.session.add(assignment)
    db.session.flush()
    db.session.add(
        TransitionLog(
            subject_type="assignment",
            subject_id=assignment.id,
            event="invite",
            from_state="",
            to_state=AssignmentStatus.INVITED,
            actor_id=actor.id if actor is not None else None,
            created_at=clock.now(),
            reason=justification,
            payload={"review_id": review.id, "is_lead": is_lead}
            | ({"draw_id": draw_id} if draw_id is not None else {}),
        )
    )
    notification_rules.notify("assignment", "invite", assignment)
    return assignment


def create_user(
    email: str,
    display_name: str,
    role: Role,
    password: str,
    state: State | None = None,
    *,
    organisation: str | None = None,
    stakeholder_kind: StakeholderKind | None = None,
) -> User:
    """Create an account. Partners and stakeholders (issue 18) take an ``organisation`` name and
    no state; a stakeholder also its ``stakeholder_kind``.

    Raises `SetupError` on a duplicate e-mail, a missing state or a missing organisation."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise SetupError(_("An account with e-mail %(email)s already exists.", email=email))
    if role in ORGANISATION_ROLES:
        if not (organisation or "").strip():
            raise SetupError(_("Give the name of the organisation."))
        if role == Role.STAKEHOLDER and stakeholder_kind is None:
            raise SetupError(_("Choose what kind of organisation this is."))
        if len(password) < MIN_PASSWORD_LENGTH:
            raise SetupError(
                _(
                    "The password must have at least %(count)d characters.",
                    count=MIN_PASSWORD_LENGTH,
                )
            )
        user = User(
            email=email,
            display_name=display_name.strip(),
            role=role,
            organisation=organisation.strip(),
            stakeholder_kind=stakeholder_kind if role == Role.STAKEHOLDER else None,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        return user
    if role != Role.SECRETARIAT and state is None:
        raise SetupError(_("Focal points and peer reviewers must belong to a state."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SetupError(
            _("The password must have at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
        )
    user = User(
        email=email,
        display_name=display_name.strip(),
        role=role,
        state_id=state.id if state and role != Role.SECRETARIAT else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
