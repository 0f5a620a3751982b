"""Secretariat administration: users, cycles, participating states, review teams.

Every URL of this blueprint is for the secretariat only (``access.require(user, "admin")``):
anonymous visitors are sent to the sign-in page, focal points and reviewers get 403. The check
runs before every request of the blueprint, so a new route cannot forget it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import case
from wtforms import SelectChoice

from app import access
from app.extensions import db
from app.i18n import sorted_by_name
from app.models import (
    ORGANISATION_ROLES,
    AccountEvent,
    Cycle,
    Framework,
    Notification,
    NotificationStatus,
    RegionalGroup,
    Review,
    Role,
    State,
    User,
)
from app.services import account_audit, carry_over, password_links, two_factor
from app.services import admin as service
from app.services import cycles as cycle_service
from app.services import draws as draw_service
from app.services import notifications as notification_service
from app.services.account_audit import KINDS
from app.services.cycles import SetupError
from app.services.worklist import next_deadline
from app.web.admin.forms import (
    TIME_ZONES,
    AddStatesForm,
    AssignReviewerForm,
    CycleForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    role_choices,
)
from app.web.events import fire_from_form
from app.web.helpers import diagram_page, get_or_404, group_label
from app.web.listing import Listing, paginate
from workflows import ASSIGNMENT, CYCLE, REVIEW, CycleStatus, ReviewStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def secretariat_only():
    """Refuse every administration URL to anyone but the secretariat (403; sign-in if anonymous)."""
    access.require(current_user, "admin")


def _invalid_status(form) -> int:
    """200 for a first display, 422 when a submitted form comes back with messages."""
    return 422 if form.is_submitted() else 200


def _refusal_status(refused: SetupError) -> int:
    """409 when someone else acted first (a double click, an outdated form), else 422."""
    return 409 if isinstance(refused, service.AlreadyDone | service.AccountChanged) else 422


def _state_choices(states, blank: str) -> list[SelectChoice]:
    """The states as choices, named and sorted alphabetically in the reader's language."""
    return [SelectChoice("", blank)] + [
        SelectChoice(s.id, f"{s.local_name} — {group_label(s.regional_group)}")
        for s in sorted_by_name(states, lambda s: s.local_name)
    ]


# --- users -------------------------------------------------------------------------------------


@bp.route("/users")
def users():
    states = service.all_states()
    filters = UserFilterForm(request.args)
    filters.role.choices = [SelectChoice("", _("Any role")), *role_choices(True)]
    filters.state.choices = _state_choices(states, _("Any state"))
    role, state_id, active = filters.chosen()
    query = service.users_query(
        role=role, state_id=state_id, active=active, text=filters.q.data or ""
    )
    listing = paginate(
        query,
        {
            "name": (User.display_name,),
            "email": (User.email,),
            "role": (User.role, User.display_name),
            "state": (State.name, User.display_name),
        },
        default="name",
        tiebreak=User.id,
    )
    return render_template("admin/users.html", listing=listing, filters=filters)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserCreateForm()
    form.state.choices = _state_choices(service.all_states(), _("— none (secretariat) —"))
    error, status = None, _invalid_status(form)
    if form.validate_on_submit():
        state = db.session.get(State, form.state.data) if form.state.data else None
        invite = not form.password.data
        try:
            user = service.create_account(
                form.email.data,
                form.display_name.data,
                form.role.data,
                form.password.data or password_links.unusable_password(),
                state,
            )
        except SetupError as refused:
            db.session.rollback()
            error, status = str(refused), _refusal_status(refused)
        else:
            account_audit.record(
                "account_created",
                subject=user,
                actor=current_user,
                detail={"role": user.role.value},
            )
            note = None
            if invite:
                note = password_links.send_link(
                    user, password_links.link_for(user), invitation=True
                )
                account_audit.record(
                    "link_issued",
                    subject=user,
                    actor=current_user,
                    detail={"purpose": "invitation", "delivery": "e-mail and shown to copy"},
                )
            db.session.commit()
            flash(_("Account created for %(name)s.", name=user.display_name), "success")
            if invite:
                category, message = link_delivery_message(note, user.email)
                flash(message, category)
                return _show_password_link(user)
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None, error=error), status


def link_delivery_message(note: Notification | None, email: str) -> tuple[str, str]:
    """What became of the e-mail carrying a new account's set-password link, read after the
    commit (the message is tried right after it): sent, queued (waiting for the outbox pass), or
    refused with the server's answer. Returns (flash category, message) (issue 14)."""
    if note is None:
        return "warning", _("No link was e-mailed: the account is inactive.")
    db.session.refresh(note)
    if note.status == NotificationStatus.SENT:
        return "info", _("A link to set the password was sent to %(email)s.", email=email)
    if note.status == NotificationStatus.QUEUED:
        return "info", _(
            "A link to set the password is queued for %(email)s: the next outbox pass sends it.",
            email=email,
        )
    return "warning", _(
        "The mail server refused the e-mail with the link to %(email)s: %(error)s. Copy the "
        "link below and give it to the person another way; the outbox retries the e-mail.",
        email=email,
        error=note.last_error or "—",
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = get_or_404(User, user_id)
    if user.role in ORGANISATION_ROLES:  # organisation accounts have their own page (issue 18)
        page = "assistance.partners" if user.role == Role.PARTNER else "stakeholders.accounts"
        return redirect(url_for(page))
    form = UserEditForm(
        data={
            "display_name": user.display_name,
            "role": user.role,
            "state": user.state_id,
            "active": user.active,
            "base_version": service.account_version(user),
        }
    )
    form.account_email = user.email
    form.state.choices = _state_choices(service.all_states(), _("— none (secretariat) —"))
    error, status = None, _invalid_status(form)
    if form.validate_on_submit():
        state = db.session.get(State, form.state.data) if form.state.data else None
        try:
            service.update_user(
                user,
                current_user,
                display_name=form.display_name.data,
                role=form.role.data,
                state=state,
                active=form.active.data,
                new_password=form.new_password.data or "",
                base_version=form.base_version.data,
            )
        except SetupError as refused:
            db.session.rollback()
            error, status = str(refused), _refusal_status(refused)
            if isinstance(refused, service.AccountChanged):
                form.base_version.data = service.account_version(user)  # a second save goes through
        else:
            db.session.commit()
            flash(_("Account of %(name)s saved.", name=user.display_name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, error=error), status


@bp.route("/users/<int:user_id>/password-link", methods=["POST"])
def user_password_link(user_id: int):
    """Make a set-password link for the account (an invitation or a reset) and show it once to
    copy; it is never stored, and never put in the URL or a flashed message."""
    user = get_or_404(User, user_id)
    if not user.active:
        flash(_("The account is deactivated: activate it before making a link."), "warning")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    account_audit.record(
        "link_issued", subject=user, actor=current_user, detail={"delivery": "shown to copy"}
    )
    db.session.commit()
    return _show_password_link(user)


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
def user_two_factor_reset(user_id: int):
    """Remove an account's second factor, with a reason (issue 14): another secretariat member
    only; the reason goes to the account audit log."""
    user = get_or_404(User, user_id)
    access.require(current_user, "two_factor.reset", user)
    reason = (request.form.get("reason") or "")[:1000]
    try:
        two_factor.reset(user, current_user, reason)
    except two_factor.TwoFactorError as refused:
        db.session.rollback()
        return _render_user_edit(user, reset_error=str(refused), reset_reason=reason), 422
    db.session.commit()
    flash(
        _(
            "The second factor of %(name)s was removed; they set it up again at their next "
            "sign-in.",
            name=user.display_name,
        ),
        "success",
    )
    return redirect(url_for("admin.user_edit", user_id=user.id))


def _render_user_edit(user: User, **extra):
    form = UserEditForm(
        formdata=None,
        data={
            "display_name": user.display_name,
            "role": user.role,
            "state": user.state_id,
            "active": user.active,
            "base_version": service.account_version(user),
        },
    )
    form.account_email = user.email
    form.state.choices = _state_choices(service.all_states(), _("— none (secretariat) —"))
    return render_template("admin/user_form.html", form=form, user=user, error=None, **extra)


# --- second factor: which roles must use it -----------------------------------------------------


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor_policy():
    """Which roles must sign in with a second factor (the secretariat always, in production)."""
    access.require(current_user, "two_factor.policy")
    if request.method == "POST":
        try:
            for role in Role:
                if role == Role.SECRETARIAT and two_factor.secretariat_required():
                    continue
                two_factor.set_requirement(
                    role, request.form.get(f"required-{role.value}") == "y", current_user
                )
        except two_factor.TwoFactorError as refused:
            db.session.rollback()
            flash(str(refused), "warning")
        else:
            db.session.commit()
            flash(_("Two-step sign-in requirements saved."), "success")
        return redirect(url_for("admin.two_factor_policy"))
    return render_template(
        "admin/two_factor.html",
        required=two_factor.requirements(),
        fixed=two_factor.secretariat_required(),
        roles=list(Role),
    )


# --- account audit log -------------------------------------------------------------------------


def _audit_filters() -> tuple[dict, str, str | None]:
    """The audit page's filters from the query string: (filters for `events_query`, the zone
    times are shown in, an error message). Dates are whole days in that zone; the zone chosen
    is remembered for the session (default UTC)."""
    zone = request.args.get("tz", "").strip() or session.get("time_zone", "UTC")
    error = None
    try:
        cycle_service.check_time_zone(zone)
    except SetupError:
        error, zone = _("Unknown time zone %(zone)s: times are shown in UTC.", zone=zone), "UTC"
    session["time_zone"] = zone
    chosen: dict = {
        "kind": request.args.get("kind", "") if request.args.get("kind") in KINDS else "",
        "account": request.args.get("account", "")[:254],
        "address": request.args.get("address", "")[:64],
    }
    for key, bound in (("since", "from"), ("until", "to")):
        text = request.args.get(bound, "").strip()
        if not text:
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            error = _("Dates are written YYYY-MM-DD, e.g. 2027-03-12.")
            continue
        start = datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))
        chosen[key] = start if key == "since" else start + timedelta(days=1)
    return chosen, zone, error


@bp.route("/audit")
def audit():
    """The account audit log (issue 14): newest first, filtered, times in the viewer's zone."""
    access.require(current_user, "audit.view")
    chosen, zone, error = _audit_filters()
    listing = paginate(
        account_audit.events_query(**chosen),
        {"time": (AccountEvent.created_at, AccountEvent.id)},
        default="-time",
        tiebreak=AccountEvent.id,
        per_page=50,
    )
    return render_template(
        "admin/audit.html",
        listing=listing,
        kinds=KINDS,
        zone=zone,
        zones=TIME_ZONES,
        error=error,
        args=request.args,
        describe=account_audit.describe,
        reasons=account_audit.FAILURE_REASONS,
    )


@bp.route("/audit.csv")
def audit_csv():
    """The audit log with the page's filters as CSV (every matching row, newest first)."""
    access.require(current_user, "audit.view")
    chosen, zone, _error = _audit_filters()
    events = (
        db.session.scalars(
            account_audit.events_query(**chosen).order_by(
                AccountEvent.created_at.desc(), AccountEvent.id.desc()
            )
        )
        .unique()
        .all()
    )
    return Response(
        account_audit.to_csv(events, zone),
        mimetype="text/csv",
        headers={
            "Content-Disposition": "attachment; filename=pillars-account-audit.csv",
            "Cache-Control": "no-store",
        },
    )


def _show_password_link(user: User):
    response = render_template(
        "admin/password_link.html",
        user=user,
        link=password_links.link_for(user),
        hours=password_links.max_age() // 3600,
    )
    return response, 200, {"Cache-Control": "no-store"}


# --- cycles ------------------------------------------------------------------------------------


@bp.route("/cycles")
def cycles():
    return render_template("admin/cycles.html", rows=service.cycles_with_review_counts())


@bp.route("/cycles/new", methods=["GET", "POST"])
def cycle_new():
    form = CycleForm()
    frameworks = service.frameworks()
    form.framework.choices = [SelectChoice(f.id, f.label) for f in frameworks]
    if not form.is_submitted() and frameworks:
        form.framework.data = frameworks[0].id
    error = None
    if form.validate_on_submit():
        durations = {attr: getattr(form, attr).data for _stage, attr in cycle_service.STAGES}
        try:
            cycle = cycle_service.create_cycle(
                form.name.data,
                db.session.get(Framework, form.framework.data),
                form.starts_on.data,
                form.time_zone.data,
                team_size=form.team_size.data,
                **follow_up_settings(form),
                **durations,
            )
        except SetupError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
            flash(
                _("Cycle %(name)s created. Now add the participating states.", name=cycle.name),
                "success",
            )
            return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    return render_template(
        "admin/cycle_form.html", form=form, error=error, time_zones=TIME_ZONES
    ), _invalid_status(form)


def follow_up_settings(form: CycleForm) -> dict[str, int]:
    """The follow-up intervals and threshold the form gives (issue 17); left empty, the
    model's defaults apply (12 and 6 months, 50 %)."""
    names = ("regular_interval_months", "enhanced_interval_months", "not_implemented_threshold")
    return {name: form[name].data for name in names if form[name].data is not None}


def _add_states_form(cycle: Cycle, form: AddStatesForm | None = None) -> AddStatesForm:
    form = form or AddStatesForm(formdata=None)
    form.states.choices = [
        SelectChoice(state.id, state.local_name, optgroup=group_label(state.regional_group))
        for state in sorted_by_name(
            service.states_not_in(cycle),
            lambda s: f"{group_label(s.regional_group)}\u0000{s.local_name}",
        )
    ]
    return form


def _review_listing(cycle: Cycle) -> tuple[Listing, dict]:
    """The cycle's reviews as the query parameters ask: ``status`` (a review status), ``group``
    (a regional group), ``sort`` (state, group, status), ``page``. Unknown filter values are
    ignored and named in the returned ``filters``."""
    status = next((s for s in ReviewStatus if s.value == request.args.get("status")), None)
    group = next((g for g in RegionalGroup if g.value == request.args.get("group")), None)
    ignored = [
        name
        for name, chosen in (("status", status), ("group", group))
        if request.args.get(name) and chosen is None
    ]
    listing = paginate(
        service.cycle_reviews_query(cycle, status=status, group=group),
        {
            "state": (State.name,),
            "group": (State.regional_group, State.name),
            # workflow order (self-assessment first), not the alphabet
            "status": (
                case({s: i for i, s in enumerate(ReviewStatus)}, value=Review.status),
                State.name,
            ),
        },
        default="state",
        tiebreak=Review.id,
    )
    filters = {
        "status": status.value if status else "",
        "group": group.value if group else "",
        "ignored": ignored,
        "statuses": list(ReviewStatus),
        "groups": list(RegionalGroup),
        "any": bool(status or group),
    }
    return listing, filters


def _render_cycle(cycle: Cycle, *, kept: dict | None = None, add_form=None, add_error=None):
    listing, filters = _review_listing(cycle)
    return render_template(
        "admin/cycle.html",
        cycle=cycle,
        listing=listing,
        filters=filters,
        accepted=service.accepted_counts(r.id for r in listing.items),
        deadlines=cycle_service.stage_deadlines(cycle),
        next_deadline=next_deadline,
        add_form=_add_states_form(cycle, add_form),
        add_error=add_error,
        kept=kept or {},
        # what opening the cycle will do to the states' earlier reviews (issue 16, item 8)
        carry_preview=carry_over.preview(cycle) if cycle.status == CycleStatus.PLANNING else [],
    )


@bp.route("/cycles/<int:cycle_id>")
def cycle(cycle_id: int):
    return _render_cycle(get_or_404(Cycle, cycle_id))


@bp.route("/cycles/<int:cycle_id>/states", methods=["POST"])
def cycle_add_states(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    form = AddStatesForm()
    error, status = None, 422
    if form.validate_on_submit():
        try:
            added = service.add_states(cycle, form.states.data, current_user)
        except SetupError as refused:
            db.session.rollback()
            error, status = str(refused), _refusal_status(refused)
        else:
            db.session.commit()
            flash(
                ngettext(
                    "%(num)d state added: %(names)s.",
                    "%(num)d states added: %(names)s.",
                    len(added),
                    names=", ".join(r.state.local_name for r in added),
                ),
                "success",
            )
            return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    return _render_cycle(cycle, add_form=form, add_error=error), status


@bp.route("/cycles/<int:cycle_id>/events/<event>", methods=["POST"])
def cycle_fire(cycle_id: int, event: str):
    cycle = get_or_404(Cycle, cycle_id)
    return fire_from_form(
        cycle,
        event,
        url_for("admin.cycle", cycle_id=cycle.id),
        lambda kept: _render_cycle(cycle, kept=kept),
    )


# --- workflow diagrams ------------------------------------------------------------------------


@bp.route("/workflows")
def workflows():
    """Each lifecycle drawn from its definitions in ``workflows/``, with its transition table."""
    return diagram_page(
        render_template("admin/workflows.html", lifecycles=[REVIEW, ASSIGNMENT, CYCLE])
    )


# --- review teams ------------------------------------------------------------------------------


def _assign_choices(review: Review, members) -> list[SelectChoice]:
    """The reviewers to choose from, each with state and regional group; nationals of the
    reviewed state (refused) and reviewers from a group already on the team are marked."""
    groups_on_team = {m.reviewer.state.regional_group for m in members if m.reviewer.state}
    choices = [SelectChoice("", _("— choose a peer reviewer —"))]
    for user in service.reviewer_candidates(review):
        state = user.state
        label = (
            f"{user.display_name} ({state.local_name}, {state.regional_group.value})"
            if state
            else (f"{user.display_name} ({_('no state')})")
        )
        if state is not None and state.id == review.state_id:
            label += " " + _("(national of the reviewed state)")
        elif state is not None and state.regional_group in groups_on_team:
            label += " " + _("(regional group already on the team)")
        choices.append(SelectChoice(user.id, label))
    return choices


@bp.route("/reviews/<int:review_id>/team", methods=["GET", "POST"])
def review_team(review_id: int):
    review = get_or_404(Review, review_id)
    access.require(current_user, "assignment.manage", review)
    form = AssignReviewerForm()
    error, status = None, _invalid_status(form)
    if form.validate_on_submit():
        try:
            assignment = service.assign_by_hand(
                review,
                form.reviewer.data,
                current_user,
                is_lead=form.is_lead.data,
                justification=form.justification.data,
            )
            warnings = service.team_warnings(review, assignment)
        except SetupError as refused:
            db.session.rollback()
            error, status = str(refused), _refusal_status(refused)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s is invited to review %(state)s.",
                    name=assignment.reviewer.display_name,
                    state=review.state.local_name,
                ),
                "success",
            )
            for warning in warnings:
                flash(warning, "warning")
            return redirect(url_for("admin.review_team", review_id=review.id))
    team = service.team_of(review)
    members = [a for a in team if a.status in service.WORKING_STATUSES]
    draws = draw_service.draws_of(review.cycle, review)
    form.reviewer.choices = _assign_choices(review, members)
    return render_template(
        "admin/review_team.html",
        review=review,
        team=team,
        accepted=sum(1 for a in team if a.status in access.TEAM),
        has_lead=any(a.is_lead and a.status in access.TEAM for a in team),
        working=len(members),
        form=form,
        team_open=review.status in service.TEAM_OPEN_STATUSES,
        error=error,
        draws=draws,
        drawn_by={row["assignment_id"]: d for d in draws for row in d.result},
        redraw_ids={a.id for a in team if draw_service.redrawable(a)},
        can_draw=review in draw_service.drawable_reviews(review.cycle),
        undelivered=notification_service.undelivered_invitations(review),
    ), status


# --- the outbox (issue 6) ----------------------------------------------------------------------


@bp.route("/outbox")
def outbox():
    """Every e-mail message with its delivery status; ``?status=`` filters (an unknown status
    shows all, with a message)."""
    status = request.args.get("status", "")
    if status and status not in {s.value for s in NotificationStatus}:
        flash(_("Unknown status: showing every message."), "warning")
        status = ""
    listing = paginate(
        notification_service.outbox_query(status or None),
        {
            "created": (Notification.created_at,),
            "status": (Notification.status,),
            "kind": (Notification.kind,),
        },
        "-created",
        Notification.id.desc(),
    )
    return render_template(
        "admin/outbox.html",
        listing=listing,
        status=status,
        statuses=[s.value for s in NotificationStatus],
        counts=notification_service.status_counts(),
        backend=current_app.config["MAIL_BACKEND"],
    )


@bp.route("/outbox/<int:note_id>")
def outbox_message(note_id: int):
    note = get_or_404(Notification, note_id)
    return render_template("admin/outbox_message.html", note=note)


@bp.route("/outbox/<int:note_id>/retry", methods=["POST"])
def outbox_retry(note_id: int):
    """Make a failed (or abandoned) message due now and try it once after the commit."""
    note = get_or_404(Notification, note_id)
    try:
        notification_service.retry_now(note)
    except ValueError:
        flash(_("Only a message that failed can be retried."), "warning")
        return redirect(url_for("admin.outbox_message", note_id=note.id)), 303
    db.session.commit()
    db.session.refresh(note)
    if note.status == NotificationStatus.SENT:
        flash(_("The message was sent."), "success")
    else:
        flash(_("The message could not be sent: %(error)s", error=note.last_error), "warning")
    return redirect(url_for("admin.outbox_message", note_id=note.id))
