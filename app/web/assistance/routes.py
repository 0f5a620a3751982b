"""Pillar-two assistance pages (issue 18): a state's requests, partners' offers and programmes,
coordination per state and area, the secretariat's cross-state view, the public library of
evaluated programmes, and the secretariat's page of partner accounts.

Every route loads, asks `app.access`, calls `app.services.assistance`, commits once. Objects a
person may not see answer 404 (their existence is not disclosed).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app import access
from app.extensions import db
from app.models import (
    AREA_LABELS,
    PURPOSE_CODES,
    AssistanceArea,
    AssistanceRequest,
    Offer,
    OfferKind,
    OfferStatus,
    Programme,
    RegionalGroup,
    Review,
    Role,
    Side,
    State,
    User,
)
from app.services import assistance as service
from app.services import password_links
from app.services.cycles import SetupError, create_user
from app.web.assistance.forms import (
    OFFER_KIND_LABELS,
    CompleteForm,
    DecisionForm,
    EvaluationForm,
    NoteForm,
    OfferForm,
    OrganisationAccountForm,
    ReasonForm,
    RequestForm,
    ShareForm,
)
from app.web.helpers import get_or_404

bp = Blueprint("assistance", __name__)

LABELS = {
    "areas": AREA_LABELS,
    "purposes": PURPOSE_CODES,
    "kinds": OFFER_KIND_LABELS,
}


@bp.record_once
def _template_globals(setup) -> None:
    # globals, not a context processor: imported macros see globals only
    setup.app.jinja_env.globals.update(
        assistance_labels=LABELS, offer_status_labels=_offer_statuses
    )


def _area(value: str | None) -> AssistanceArea | None:
    try:
        return AssistanceArea(value) if value else None
    except ValueError:
        return None


@bp.route("/assistance")
@login_required
def index():
    """Home of pillar two: a partner's shared requests (filters: area, regional group, state,
    open only), offers and programmes; a focal point's requests and programmes of its state; the
    secretariat's list of every shared request."""
    if not (
        access.can(current_user, "assistance.browse")
        or access.can(current_user, "assistance.state")
    ):
        abort(403)
    area = _area(request.args.get("area"))
    group = next((g for g in RegionalGroup if g.value == request.args.get("group")), None)
    state_id = request.args.get("state", type=int)
    open_only = request.args.get("open") == "1"
    context = {"area": area, "group": group, "state_id": state_id, "open_only": open_only}
    if current_user.role == Role.FOCAL_POINT:
        state = current_user.state
        context.update(
            mine=service.requests_of_state(state),
            programmes=service.programmes_of(state=state),
            state=state,
        )
    else:
        context.update(
            shared=service.shared_requests(
                area=area, group=group, state_id=state_id, open_only=open_only
            ),
            groups=list(RegionalGroup),
            states=db.session.scalars(
                db.select(State)
                .join(AssistanceRequest, AssistanceRequest.state_id == State.id)
                .distinct()
                .order_by(State.name)
            ).all(),
        )
        if current_user.role == Role.PARTNER:
            context.update(
                offers=service.offers_of_partner(current_user),
                programmes=service.programmes_of(partner=current_user),
                engaged=db.session.scalars(
                    db.select(State)
                    .where(State.id.in_(service.engaged_state_ids(current_user)))
                    .order_by(State.name)
                ).all(),
            )
    return render_template("assistance/index.html", **context)


def _request_form(review: Review | None, form: RequestForm) -> RequestForm:
    sections = review.cycle.framework.sections if review else []
    form.section.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(s.id, f"{s.code} {s.title}") for s in sections
    ]
    form.recommendations.choices = [
        SelectChoice(r.id, r.text[:140]) for r in service.partner_recommendations(review)
    ]
    return form


def _save_request(existing, review: Review | None, state: State, form: RequestForm):
    try:
        saved = service.save_request(
            existing,
            state=state,
            review=review,
            user=current_user,
            area=AssistanceArea(form.area.data),
            purpose_code=form.purpose_code.data or "",
            title=form.title.data,
            need=form.need.data,
            shared_details=form.shared_details.data,
            section_id=form.section.data,
            recommendation_ids=form.recommendations.data or [],
        )
    except (service.AssistanceError, ValueError) as refused:
        db.session.rollback()
        return None, str(refused)
    db.session.commit()
    return saved, None


@bp.route("/reviews/<int:review_id>/assistance/new", methods=["GET", "POST"])
@login_required
def request_new(review_id: int):
    review = get_or_404(Review, review_id)
    access.require(current_user, "request.create", review, hide=True)
    form = _request_form(review, RequestForm())
    error = None
    if request.method != "POST":
        area = _area(request.args.get("area"))
        if area:
            form.area.data = area.value
        form.section.data = request.args.get("section", type=int)
        form.need.data = request.args.get("need", "")
        rec = request.args.get("recommendation", type=int)
        if rec:
            form.recommendations.data = [rec]
    elif form.validate_on_submit():
        saved, error = _save_request(None, review, review.state, form)
        if saved:
            flash(_("Request saved. Partners see it only once you share it."), "success")
            return redirect(url_for(".request_show", request_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "assistance/request_form.html",
        form=form,
        review=review,
        item=None,
        error=error,
        suggestions=service.suggestions(review),
    ), status


@bp.route("/assistance/requests/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def request_edit(request_id: int):
    item = get_or_404(AssistanceRequest, request_id)
    access.require(current_user, "request.view", item, hide=True)
    access.require(current_user, "request.edit", item)
    form = _request_form(item.review, RequestForm(obj=None))
    error = None
    if request.method != "POST":
        form.title.data = item.title
        form.area.data = item.area.value
        form.purpose_code.data = item.purpose_code
        form.section.data = item.section_id
        form.need.data = item.need
        form.shared_details.data = item.shared_details
        form.recommendations.data = [r.id for r in item.recommendations]
    elif form.validate_on_submit():
        saved, error = _save_request(item, item.review, item.state, form)
        if saved:
            flash(_("Request saved."), "success")
            return redirect(url_for(".request_show", request_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "assistance/request_form.html",
        form=form,
        review=item.review,
        item=item,
        error=error,
        suggestions=[],
    ), status


def _load_request(request_id: int) -> AssistanceRequest:
    item = get_or_404(AssistanceRequest, request_id)
    access.require(current_user, "request.view", item, hide=True)
    return item


def _visible_offers(item: AssistanceRequest) -> list[Offer]:
    """The request's offers the user may see (``offer.view``: a partner its own, the state and
    the secretariat all)."""
    return [o for o in item.offers if access.can(current_user, "offer.view", o)]


@bp.route("/assistance/requests/<int:request_id>")
@login_required
def request_show(request_id: int, offer_form=None, error=None, status=200):
    item = _load_request(request_id)
    return render_template(
        "assistance/request.html",
        item=item,
        offers=_visible_offers(item),
        offer_form=offer_form or OfferForm(formdata=None),
        share_form=ShareForm(formdata=None),
        withdraw_form=ReasonForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
        error=error,
    ), status


@bp.route("/assistance/requests/<int:request_id>/share", methods=["POST"])
@login_required
def request_share(request_id: int):
    item = _load_request(request_id)
    access.require(current_user, "request.share", item)
    try:
        service.share_request(item, current_user)
    except service.AssistanceError as refused:
        db.session.rollback()
        flash(str(refused), "warning")
    else:
        db.session.commit()
        flash(_("The request is now shared with international partners."), "success")
    return redirect(url_for(".request_show", request_id=item.id))


@bp.route("/assistance/requests/<int:request_id>/withdraw", methods=["POST"])
@login_required
def request_withdraw(request_id: int):
    item = _load_request(request_id)
    access.require(current_user, "request.withdraw", item)
    form = ReasonForm()
    try:
        service.withdraw_request(item, current_user, form.reason.data or "")
    except service.AssistanceError as refused:
        db.session.rollback()
        return request_show(request_id, error=str(refused), status=422)
    db.session.commit()
    flash(_("The request was withdrawn: partners no longer see it."), "success")
    return redirect(url_for(".request_show", request_id=item.id))


@bp.route("/assistance/requests/<int:request_id>/offers", methods=["POST"])
@login_required
def offer_new(request_id: int):
    item = _load_request(request_id)
    access.require(current_user, "offer.create", item)
    form = OfferForm()
    if not form.validate():
        return request_show(
            request_id, offer_form=form, error=_("Check the offer's fields."), status=422
        )
    try:
        kind = OfferKind(form.kind.data)
        service.make_offer(
            item,
            current_user,
            kind=kind,
            description=form.description.data,
            safeguards=form.safeguards.data,
            amount=form.amount.data,
            currency=form.currency.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
        )
    except (service.AssistanceError, ValueError) as refused:
        db.session.rollback()
        message = str(refused) if isinstance(refused, service.AssistanceError) else None
        return request_show(
            request_id,
            offer_form=form,
            error=message or _("Choose the kind of support."),
            status=422,
        )
    db.session.commit()
    flash(_("Offer sent to the state."), "success")
    return redirect(url_for(".request_show", request_id=item.id))


@bp.route("/assistance/offers/<int:offer_id>/decide", methods=["POST"])
@login_required
def offer_decide(offer_id: int):
    offer = get_or_404(Offer, offer_id)
    access.require(current_user, "offer.view", offer, hide=True)
    access.require(current_user, "offer.decide", offer)
    form = DecisionForm()
    form.validate()
    if form.decision.data not in ("accept", "decline"):
        return request_show(offer.request_id, error=_("Choose a decision."), status=422)
    try:
        programme = service.decide_offer(
            offer,
            current_user,
            accept=form.decision.data == "accept",
            reason=form.reason.data or "",
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
        )
    except service.AssistanceError as refused:
        db.session.rollback()
        return request_show(offer.request_id, error=str(refused), status=422)
    db.session.commit()
    if programme is not None:
        flash(_("Offer accepted: the programme has started."), "success")
        return redirect(url_for(".programme_show", programme_id=programme.id))
    flash(_("Offer declined."), "success")
    return redirect(url_for(".request_show", request_id=offer.request_id))


def _load_programme(programme_id: int) -> Programme:
    programme = get_or_404(Programme, programme_id)
    access.require(current_user, "programme.view", programme, hide=True)
    return programme


@bp.route("/assistance/programmes/<int:programme_id>")
@login_required
def programme_show(programme_id: int, note_form=None, evaluation_form=None, error=None, status=200):
    programme = _load_programme(programme_id)
    if evaluation_form is None:
        evaluation_form = EvaluationForm(formdata=None)
        if current_user.role in (Role.PARTNER, Role.FOCAL_POINT):
            own = programme.evaluation_by(service.side_of(current_user))
            if own is not None:
                evaluation_form = EvaluationForm(formdata=None, obj=own)
    return render_template(
        "assistance/programme.html",
        programme=programme,
        note_form=note_form or NoteForm(formdata=None),
        complete_form=CompleteForm(formdata=None),
        evaluation_form=evaluation_form,
        sides=Side,
        error=error,
    ), status


@bp.route("/assistance/programmes/<int:programme_id>/notes", methods=["POST"])
@login_required
def programme_note(programme_id: int):
    programme = _load_programme(programme_id)
    access.require(current_user, "programme.note", programme)
    form = NoteForm()
    try:
        service.add_note(programme, current_user, form.body.data or "")
    except service.AssistanceError as refused:
        db.session.rollback()
        return programme_show(programme_id, note_form=form, error=str(refused), status=422)
    db.session.commit()
    flash(_("Progress note added."), "success")
    return redirect(url_for(".programme_show", programme_id=programme.id))


@bp.route("/assistance/programmes/<int:programme_id>/complete", methods=["POST"])
@login_required
def programme_complete(programme_id: int):
    programme = _load_programme(programme_id)
    access.require(current_user, "programme.complete", programme)
    service.complete_programme(programme, current_user)
    db.session.commit()
    flash(_("Programme completed: both parties may now evaluate it."), "success")
    return redirect(url_for(".programme_show", programme_id=programme.id))


@bp.route("/assistance/programmes/<int:programme_id>/evaluation", methods=["POST"])
@login_required
def programme_evaluate(programme_id: int):
    programme = _load_programme(programme_id)
    access.require(current_user, "programme.evaluate", programme)
    form = EvaluationForm()
    try:
        service.save_evaluation(
            programme,
            current_user,
            what_was_done=form.what_was_done.data,
            outcomes=form.outcomes.data,
            what_worked=form.what_worked.data,
            what_did_not=form.what_did_not.data,
            would_repeat=form.would_repeat.data,
            consent_to_publish=form.consent_to_publish.data,
        )
    except service.AssistanceError as refused:
        db.session.rollback()
        return programme_show(programme_id, evaluation_form=form, error=str(refused), status=422)
    db.session.commit()
    flash(_("Evaluation saved."), "success")
    return redirect(url_for(".programme_show", programme_id=programme.id))


@bp.route("/assistance/states/<int:state_id>/coordination")
@login_required
def coordination(state_id: int):
    state = get_or_404(State, state_id)
    access.require(current_user, "coordination.view", state, hide=True)
    return render_template(
        "assistance/coordination.html", state=state, rows=service.coordination(state)
    )


@bp.route("/assistance/overview")
@login_required
def overview():
    access.require(current_user, "assistance.overview")
    return render_template(
        "assistance/overview.html", rows=service.coverage(), areas=list(AssistanceArea)
    )


@bp.route("/library/assistance")
def library():
    """Public: evaluated programmes both parties consented to publish, searchable by area."""
    area = _area(request.args.get("area"))
    text = request.args.get("q", "").strip()[:200]
    return render_template(
        "assistance/library.html",
        programmes=service.library(area, text),
        area=area,
        text=text,
        areas=list(AssistanceArea),
    )


# --- the secretariat's partner and stakeholder accounts ---------------------------------------


def organisation_accounts(role: Role, template_kinds: list[tuple[str, str]]):
    """List and create accounts of ``role`` (partner or stakeholder), secretariat only."""
    access.require(current_user, "admin")
    form = OrganisationAccountForm()
    form.kind.choices = template_kinds
    error = None
    if form.validate_on_submit():
        from app.models import StakeholderKind

        kind = None
        if role == Role.STAKEHOLDER:
            try:
                kind = StakeholderKind(form.kind.data)
            except ValueError:
                kind = None
        try:
            user = create_user(
                form.email.data,
                form.display_name.data,
                role,
                password_links.unusable_password(),
                organisation=form.organisation.data,
                stakeholder_kind=kind,
            )
        except SetupError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            password_links.send_link(user, password_links.link_for(user), invitation=True)
            db.session.commit()
            flash(_("Account created for %(name)s.", name=user.display_name), "success")
            flash(_("A link to set the password was sent to %(email)s.", email=user.email))
            return redirect(request.path)
    accounts = db.session.scalars(
        db.select(User).where(User.role == role).order_by(User.organisation, User.display_name)
    ).all()
    status = 422 if form.is_submitted() else 200
    return render_template(
        "assistance/accounts.html", form=form, accounts=accounts, role=role, error=error
    ), status


@bp.route("/admin/partners", methods=["GET", "POST"])
@login_required
def partners():
    return organisation_accounts(Role.PARTNER, [])


def _offer_statuses():  # for templates: what a status means in words
    return {
        OfferStatus.PENDING: _("Awaiting the state's decision"),
        OfferStatus.ACCEPTED: _("Accepted"),
        OfferStatus.DECLINED: _("Declined"),
    }
