"""Pillar-two assistance (issue 18; DESIGN §3): the state's requests to international partners,
partners' offers, the state's decisions, programmes with progress notes by both parties, their
evaluations and the public library of evaluated programmes, and the coordination views.

Rules of who may do what are in `app.access`; these functions check only what the data must
satisfy (a reason for a decline, safeguards for equipment, dates in order) and raise
`AssistanceError` with a message for the person. Each step writes one `TransitionLog` row
(subject types ``assist_request``, ``offer``, ``programme``). Functions flush, never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.extensions import db
from app.models import (
    DEFAULT_PURPOSE,
    PURPOSE_CODES,
    Addressee,
    AssistanceArea,
    AssistanceRequest,
    FrameworkSection,
    Offer,
    OfferKind,
    OfferStatus,
    Programme,
    ProgrammeEvaluation,
    ProgrammeNote,
    ProgrammeStatus,
    Recommendation,
    RequestStatus,
    Review,
    Role,
    SectionGaps,
    Side,
    State,
    TransitionLog,
    User,
)
from app.services import clock


class AssistanceError(ValueError):
    """A step refused for a reason the person can act on (the message says which)."""


def _log(kind: str, subject_id: int, event: str, before: str, after: str, actor: User, why=""):
    db.session.add(
        TransitionLog(
            subject_type=kind,
            subject_id=subject_id,
            event=event,
            from_state=before,
            to_state=after,
            actor_id=actor.id,
            created_at=clock.now(),
            reason=why,
        )
    )


def _words(text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AssistanceError(message)
    return text


def side_of(user: User) -> Side:
    """The party a user acts for on a programme: a focal point the state, a partner itself."""
    return Side.PARTNER if user.role == Role.PARTNER else Side.STATE


# --- requests ---------------------------------------------------------------------------------


@dataclass
class Suggestion:
    """A need the state already named: a section's "assistance sought", or a recommendation
    addressed to international partners (DESIGN §3)."""

    area: AssistanceArea
    section: FrameworkSection | None
    text: str
    recommendation: Recommendation | None = None


def suggestions(review: Review) -> list[Suggestion]:
    """What the state's self-assessment and report already ask of partners, section by section."""
    found: list[Suggestion] = []
    gaps = db.session.scalars(
        select(SectionGaps).where(SectionGaps.review_id == review.id).order_by(SectionGaps.id)
    )
    for row in gaps:
        for area in row.assistance_sought or []:
            if area in AssistanceArea.__members__.values():
                found.append(
                    Suggestion(AssistanceArea(area), row.section, row.assistance_details or "")
                )
    recommendations = db.session.scalars(
        select(Recommendation)
        .where(
            Recommendation.review_id == review.id,
            Recommendation.addressee == Addressee.INTERNATIONAL_PARTNERS,
        )
        .order_by(Recommendation.id)
    )
    for rec in recommendations:
        found.append(Suggestion(AssistanceArea.OTHER, rec.section, rec.text, rec))
    return found


def partner_recommendations(review: Review | None) -> list[Recommendation]:
    """The review's recommendations a request may be linked to (those addressed to partners
    first, then the others), by id."""
    if review is None:
        return []
    return list(
        db.session.scalars(
            select(Recommendation)
            .where(Recommendation.review_id == review.id)
            .order_by(Recommendation.addressee.desc(), Recommendation.id)
        )
    )


def save_request(
    request: AssistanceRequest | None,
    *,
    state: State,
    review: Review | None,
    user: User,
    area: AssistanceArea,
    purpose_code: str,
    title: str,
    need: str,
    shared_details: str,
    section_id: int | None,
    recommendation_ids: Iterable[int],
) -> AssistanceRequest:
    """Create (``request`` None) or change a request while it is a draft; flush.

    ``purpose_code`` is an OECD DAC 5-digit code of `PURPOSE_CODES` (empty: the area's default).
    Recommendations must belong to ``review``.

    Raises:
        AssistanceError: no title or need, an unknown purpose code, a request no longer a draft.
    """
    if request is not None and request.status != RequestStatus.DRAFT:
        raise AssistanceError(_("Only a request not yet shared can be changed."))
    title = _words(title, _("Give the request a short title."))
    need = _words(need, _("Describe the need in the state's own words."))
    purpose_code = purpose_code or DEFAULT_PURPOSE[area]
    if purpose_code not in PURPOSE_CODES:
        raise AssistanceError(_("Choose one of the listed purpose codes."))
    wanted = set(recommendation_ids)
    recommendations = [r for r in partner_recommendations(review) if r.id in wanted]
    if request is None:
        request = AssistanceRequest(
            state_id=state.id,
            review_id=review.id if review else None,
            created_by_id=user.id,
            created_at=clock.now(),
            status=RequestStatus.DRAFT,
        )
        db.session.add(request)
    request.area = area
    request.purpose_code = purpose_code
    request.title = title
    request.need = need
    request.shared_details = (shared_details or "").strip()
    request.section_id = section_id
    request.recommendations = recommendations
    db.session.flush()
    return request


def share_request(request: AssistanceRequest, user: User) -> None:
    """Show a draft request to partners (the state's consent to share it); flush.

    Raises:
        AssistanceError: the request is not a draft.
    """
    if request.status != RequestStatus.DRAFT:
        raise AssistanceError(_("This request is not a draft any more."))
    request.status = RequestStatus.SHARED
    request.shared_at = clock.now()
    _log("assist_request", request.id, "share", "draft", "shared", user)
    db.session.flush()


def withdraw_request(request: AssistanceRequest, user: User, reason: str) -> None:
    """Take a shared request back from partners; pending offers on it are declined with the
    same reason; flush.

    Raises:
        AssistanceError: no reason, or the request is not shared.
    """
    reason = _words(reason, _("Please give a reason."))
    if request.status != RequestStatus.SHARED:
        raise AssistanceError(_("Only a shared request can be withdrawn."))
    now = clock.now()
    request.status = RequestStatus.WITHDRAWN
    request.withdrawn_at = now
    request.withdrawn_reason = reason
    for offer in request.offers:
        if offer.status == OfferStatus.PENDING:
            offer.status = OfferStatus.DECLINED
            offer.decision_reason = reason
            offer.decided_by_id = user.id
            offer.decided_at = now
    _log("assist_request", request.id, "withdraw", "shared", "withdrawn", user, reason)
    db.session.flush()


def requests_of_state(state: State) -> list[AssistanceRequest]:
    return list(
        db.session.scalars(
            select(AssistanceRequest)
            .where(AssistanceRequest.state_id == state.id)
            .order_by(AssistanceRequest.created_at.desc(), AssistanceRequest.id.desc())
        )
    )


def shared_requests(
    *,
    area: AssistanceArea | None = None,
    group=None,
    state_id: int | None = None,
    open_only: bool = False,
) -> list[AssistanceRequest]:
    """Shared requests (never drafts or withdrawn ones), newest first, filtered by area, the
    state's UN regional group, state, and (``open_only``) those with no accepted offer yet."""
    query = (
        select(AssistanceRequest)
        .join(State, State.id == AssistanceRequest.state_id)
        .where(AssistanceRequest.status == RequestStatus.SHARED)
    )
    if area is not None:
        query = query.where(AssistanceRequest.area == area)
    if group is not None:
        query = query.where(State.regional_group == group)
    if state_id is not None:
        query = query.where(AssistanceRequest.state_id == state_id)
    if open_only:
        covered = select(Offer.request_id).where(Offer.status == OfferStatus.ACCEPTED)
        query = query.where(AssistanceRequest.id.not_in(covered))
    query = query.order_by(AssistanceRequest.shared_at.desc(), AssistanceRequest.id.desc())
    return list(db.session.scalars(query))


# --- offers -----------------------------------------------------------------------------------


def make_offer(
    request: AssistanceRequest,
    partner: User,
    *,
    kind: OfferKind,
    description: str,
    safeguards: str,
    amount: Decimal | None,
    currency: str,
    starts_on: date | None,
    ends_on: date | None,
) -> Offer:
    """A partner's offer against a shared request; flush.

    ``amount`` (optional, ≥ 0) is in ``currency`` (ISO 4217, three letters). Equipment must state
    its safeguards against misuse (the brief, on security-sector aid).

    Raises:
        AssistanceError: the request is not shared; no description; equipment without
            safeguards; an amount without a currency; an end before the start.
    """
    if request.status != RequestStatus.SHARED:
        raise AssistanceError(_("This request is no longer open to offers."))
    description = _words(description, _("Describe what you offer."))
    safeguards = (safeguards or "").strip()
    if kind == OfferKind.EQUIPMENT and not safeguards:
        raise AssistanceError(
            _("Equipment is offered only with its safeguards against misuse: state them.")
        )
    currency = (currency or "").strip().upper()
    if amount is not None and not (len(currency) == 3 and currency.isalpha()):
        raise AssistanceError(_("Give the amount's currency as a three-letter code (e.g. EUR)."))
    if starts_on and ends_on and ends_on < starts_on:
        raise AssistanceError(_("The end date is before the start date."))
    offer = Offer(
        request_id=request.id,
        partner_id=partner.id,
        kind=kind,
        description=description,
        safeguards=safeguards,
        amount=amount,
        currency=currency if amount is not None else None,
        starts_on=starts_on,
        ends_on=ends_on,
        status=OfferStatus.PENDING,
        created_at=clock.now(),
    )
    db.session.add(offer)
    db.session.flush()
    _log("offer", offer.id, "make_offer", "", "pending", partner)
    db.session.flush()
    return offer


def decide_offer(
    offer: Offer,
    user: User,
    *,
    accept: bool,
    reason: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Programme | None:
    """The state accepts (a `Programme` starts, with the given or the offer's dates) or declines
    (``reason`` required) a pending offer; flush. Returns the programme when accepted.

    Raises:
        AssistanceError: the offer was already decided; no reason for a decline; no dates or
            dates out of order for an acceptance.
    """
    if offer.status != OfferStatus.PENDING:
        raise AssistanceError(_("This offer was already decided."))
    now = clock.now()
    if not accept:
        reason = _words(reason, _("Please give a reason."))
        offer.status = OfferStatus.DECLINED
        offer.decision_reason = reason
        offer.decided_by_id = user.id
        offer.decided_at = now
        _log("offer", offer.id, "decline", "pending", "declined", user, reason)
        db.session.flush()
        return None
    starts_on = starts_on or offer.starts_on
    ends_on = ends_on or offer.ends_on
    if starts_on is None or ends_on is None:
        raise AssistanceError(_("Give the programme's start and end dates."))
    if ends_on < starts_on:
        raise AssistanceError(_("The end date is before the start date."))
    offer.status = OfferStatus.ACCEPTED
    offer.decision_reason = (reason or "").strip()
    offer.decided_by_id = user.id
    offer.decided_at = now
    request = offer.request
    programme = Programme(
        offer_id=offer.id,
        state_id=request.state_id,
        partner_id=offer.partner_id,
        area=request.area,
        purpose_code=request.purpose_code,
        title=request.title,
        starts_on=starts_on,
        ends_on=ends_on,
        amount=offer.amount,
        currency=offer.currency,
        status=ProgrammeStatus.UNDER_WAY,
        created_at=now,
    )
    db.session.add(programme)
    _log("offer", offer.id, "accept", "pending", "accepted", user, offer.decision_reason)
    db.session.flush()
    return programme


def offers_of_partner(partner: User) -> list[Offer]:
    return list(
        db.session.scalars(
            select(Offer).where(Offer.partner_id == partner.id).order_by(Offer.created_at.desc())
        )
    )


# --- programmes -------------------------------------------------------------------------------


def add_note(programme: Programme, user: User, body: str) -> ProgrammeNote:
    """A dated progress note by the state or the partner; flush.

    Raises:
        AssistanceError: an empty note.
    """
    note = ProgrammeNote(
        programme_id=programme.id,
        side=side_of(user),
        author_id=user.id,
        body=_words(body, _("Write the note before saving it.")),
        created_at=clock.now(),
    )
    db.session.add(note)
    db.session.flush()
    return note


def complete_programme(programme: Programme, user: User) -> None:
    """Mark a programme completed (either party); its evaluations may then be written; flush."""
    if programme.status != ProgrammeStatus.UNDER_WAY:
        raise AssistanceError(_("This programme is already completed."))
    programme.status = ProgrammeStatus.COMPLETED
    programme.completed_at = clock.now()
    _log("programme", programme.id, "complete", "under_way", "completed", user)
    db.session.flush()


def save_evaluation(
    programme: Programme,
    user: User,
    *,
    what_was_done: str,
    outcomes: str,
    what_worked: str,
    what_did_not: str,
    would_repeat: bool,
    consent_to_publish: bool,
) -> ProgrammeEvaluation:
    """Write or rewrite the user's party's evaluation of a completed programme; flush. The
    programme joins the public library only when both parties consent (`Programme.published`).

    Raises:
        AssistanceError: the programme is not completed, or a field is empty.
    """
    if programme.status != ProgrammeStatus.COMPLETED:
        raise AssistanceError(_("A programme is evaluated once it is completed."))
    missing = _("Answer every question of the evaluation.")
    side = side_of(user)
    evaluation = programme.evaluation_by(side)
    if evaluation is None:
        evaluation = ProgrammeEvaluation(programme_id=programme.id, side=side)
        db.session.add(evaluation)
        programme.evaluations.append(evaluation)
    evaluation.author_id = user.id
    evaluation.what_was_done = _words(what_was_done, missing)
    evaluation.outcomes = _words(outcomes, missing)
    evaluation.what_worked = _words(what_worked, missing)
    evaluation.what_did_not = _words(what_did_not, missing)
    evaluation.would_repeat = bool(would_repeat)
    evaluation.consent_to_publish = bool(consent_to_publish)
    evaluation.updated_at = clock.now()
    db.session.flush()
    return evaluation


def programmes_of(*, state: State | None = None, partner: User | None = None) -> list[Programme]:
    query = select(Programme).order_by(Programme.starts_on.desc(), Programme.id.desc())
    if state is not None:
        query = query.where(Programme.state_id == state.id)
    if partner is not None:
        query = query.where(Programme.partner_id == partner.id)
    return list(db.session.scalars(query))


def library(area: AssistanceArea | None = None, text: str = "") -> list[Programme]:
    """Evaluated programmes both parties consented to publish, newest first; filtered by area
    and by ``text`` in the title or an evaluation (case-insensitive)."""
    both = (
        select(ProgrammeEvaluation.programme_id)
        .where(ProgrammeEvaluation.consent_to_publish.is_(True))
        .group_by(ProgrammeEvaluation.programme_id)
        .having(db.func.count() == 2)
    )
    query = select(Programme).where(
        Programme.status == ProgrammeStatus.COMPLETED, Programme.id.in_(both)
    )
    if area is not None:
        query = query.where(Programme.area == area)
    text = (text or "").strip()
    if text:
        pattern = f"%{text}%"
        matching = select(ProgrammeEvaluation.programme_id).where(
            or_(
                ProgrammeEvaluation.what_was_done.ilike(pattern),
                ProgrammeEvaluation.outcomes.ilike(pattern),
                ProgrammeEvaluation.what_worked.ilike(pattern),
                ProgrammeEvaluation.what_did_not.ilike(pattern),
            )
        )
        query = query.where(or_(Programme.title.ilike(pattern), Programme.id.in_(matching)))
    return list(db.session.scalars(query.order_by(Programme.completed_at.desc())))


# --- coordination -----------------------------------------------------------------------------


def engaged_state_ids(partner: User) -> set[int]:
    """States whose shared (or once shared) requests the partner made an offer on."""
    return set(
        db.session.scalars(
            select(AssistanceRequest.state_id)
            .join(Offer, Offer.request_id == AssistanceRequest.id)
            .where(Offer.partner_id == partner.id)
        )
    )


@dataclass
class AreaRow:
    """One area of a state's coordination page."""

    area: AssistanceArea
    requests: list[AssistanceRequest] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    programmes: list[Programme] = field(default_factory=list)

    @property
    def partners(self) -> set[str]:
        return {o.partner.organisation for o in self.offers if o.status != OfferStatus.DECLINED}


def coordination(state: State) -> list[AreaRow]:
    """Per area, the state's shared requests and every partner's offers and programmes, side by
    side (drafts are the state's own and are left out). Areas with nothing are left out."""
    rows = {area: AreaRow(area) for area in AssistanceArea}
    requests = db.session.scalars(
        select(AssistanceRequest)
        .where(
            AssistanceRequest.state_id == state.id,
            AssistanceRequest.status != RequestStatus.DRAFT,
        )
        .order_by(AssistanceRequest.shared_at)
    )
    for request in requests:
        rows[request.area].requests.append(request)
        rows[request.area].offers.extend(request.offers)
    for programme in programmes_of(state=state):
        rows[programme.area].programmes.append(programme)
    return [row for row in rows.values() if row.requests or row.programmes]


@dataclass
class Coverage:
    """Per state and area: shared requests and how many of them have an accepted offer."""

    state: State
    requested: dict[AssistanceArea, int] = field(default_factory=lambda: defaultdict(int))
    covered: dict[AssistanceArea, int] = field(default_factory=lambda: defaultdict(int))
    partners: dict[AssistanceArea, set[str]] = field(default_factory=lambda: defaultdict(set))


def coverage() -> list[Coverage]:
    """The cross-state view of requested vs covered areas (secretariat), by state name."""
    by_state: dict[int, Coverage] = {}
    requests = db.session.scalars(
        select(AssistanceRequest)
        .join(State, State.id == AssistanceRequest.state_id)
        .where(AssistanceRequest.status == RequestStatus.SHARED)
        .order_by(State.name)
    )
    for request in requests:
        row = by_state.setdefault(request.state_id, Coverage(request.state))
        row.requested[request.area] += 1
        accepted = [o for o in request.offers if o.status == OfferStatus.ACCEPTED]
        if accepted:
            row.covered[request.area] += 1
        for offer in request.offers:
            if offer.status != OfferStatus.DECLINED:
                row.partners[request.area].add(offer.partner.organisation)
    return list(by_state.values())
