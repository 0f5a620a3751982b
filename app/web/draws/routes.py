"""The secretariat's draw-by-lot pages (DESIGN §6): rules, reviewer pool, preview, stored draws.

Every URL is for the secretariat only (``draw.manage`` / ``pool.view`` in ``app/access.py``),
checked before every request of the blueprint. A GET never draws: opening a draw (POST) records
its seed, who and when before the teams are shown; the open draw is shown as recorded until it
is confirmed (invitations sent only if a re-run with its seed sees the same inputs), set aside,
or drawn again with a reason.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.models import Assignment, Cycle, Draw, Review
from app.services import draws as service
from app.services.cycles import SetupError
from app.services.draw import RULE_LABELS, DrawRefused
from app.web.draws.forms import ConfirmDrawForm, DrawRulesForm, OpenDrawForm, SetAsideForm
from app.web.forms import optional_int
from app.web.helpers import get_or_404

bp = Blueprint("draws", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def secretariat_only():
    """Refuse every draw URL to anyone but the secretariat (403; sign-in if anonymous)."""
    access.require(current_user, "draw.manage")


@bp.route("/cycles/<int:cycle_id>/pool")
def pool(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "pool.view", cycle)
    return render_template(
        "draws/pool.html",
        cycle=cycle,
        rows=service.reviewer_pool(cycle),
        outsiders=service.pool_outsiders(cycle),
        rules=service.rules_of(cycle),
    )


@bp.route("/cycles/<int:cycle_id>/draws", methods=["GET", "POST"])
def cycle_draws(cycle_id: int):
    """The cycle's draw rules (editable), the reviews with open seats and the stored draws."""
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    form = DrawRulesForm(
        data={
            "team_size": cycle.team_size,
            "distinct_groups": cycle.draw_distinct_groups,
            "same_group": cycle.draw_same_group,
            "max_per_reviewer": cycle.draw_max_per_reviewer,
            "no_reciprocal": cycle.draw_no_reciprocal,
        }
    )
    error, status = None, 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            service.update_rules(
                cycle,
                team_size=form.team_size.data,
                distinct_groups=form.distinct_groups.data,
                same_group=form.same_group.data,
                max_per_reviewer=form.max_per_reviewer.data,
                no_reciprocal=form.no_reciprocal.data,
            )
        except SetupError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
            flash(_("Draw rules saved; they apply to the next draw."), "success")
            return redirect(url_for("draws.cycle_draws", cycle_id=cycle.id))
    return render_template(
        "draws/cycle.html",
        cycle=cycle,
        form=form,
        error=error,
        drawable=service.drawable_reviews(cycle),
        draws=service.draws_of(cycle),
    ), status


def _scope_objects(
    cycle: Cycle, values
) -> tuple[str, Review | None, Assignment | None, int | None]:
    """Read scope, review, replaced assignment and seed from ``values`` (query or form).

    Raises:
        SetupError: an unreadable number.
    """
    try:
        review_id = optional_int(values.get("review_id"))
        replaces_id = optional_int(values.get("replaces_id"))
    except ValueError:
        raise SetupError(_("Choose a review of this cycle.")) from None
    typed = (values.get("seed") or "").strip()
    seed = None
    if typed:
        # a seed may exceed the INTEGER range of ids (the command line takes up to 2**63 - 1)
        if not typed.isascii() or not typed.isdigit() or len(typed) > 19:
            raise SetupError(
                _("The seed is a whole number from 0 to %(max)d.", max=service.MAX_SEED)
            )
        seed = service.check_seed(int(typed))
    scope = values.get("scope") or "cycle"
    review = db.session.get(Review, review_id) if review_id is not None else None
    replaces = db.session.get(Assignment, replaces_id) if replaces_id is not None else None
    return scope, review, replaces, seed


def _render_preview(
    cycle: Cycle,
    values,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
    open_form: OpenDrawForm | None = None,
):
    """The draw page of a cycle: the open draw as recorded (same teams at every visit) with
    confirm / draw again / set aside, or, when none is open, the form that opens one (no team
    shown before its seed is recorded). A refusal of the rules is shown on it."""
    rule, against_rules = None, False
    opened = service.open_draws(cycle)
    stale = False
    if opened:
        stale = _stale(cycle, opened)
    elif error is None:
        try:  # whether the rules can be met at all: no team is shown, so nothing to shop
            scope, review, replaces, _seed = _scope_objects(cycle, values)
            service.plan_draw(cycle, scope=scope, review=review, replaces=replaces, seed=0)
        except DrawRefused as refused:
            error, rule, against_rules = service.explain(refused), refused.rule, True
        except SetupError as refused:
            error = str(refused)
    if open_form is None:
        open_form = OpenDrawForm(formdata=None)
        open_form.scope.data = values.get("scope") or "cycle"
        open_form.review_id.data = values.get("review_id") or ""
        open_form.replaces_id.data = values.get("replaces_id") or ""
        open_form.seed.data = values.get("seed") or ""
    confirm_form = ConfirmDrawForm(formdata=None)
    aside_form = SetAsideForm(formdata=None)
    if opened:
        confirm_form.batch.data = aside_form.batch.data = str(opened[0].batch)
        confirm_form.fingerprint.data = opened[0].pool.get("fingerprint", "")
    return render_template(
        "draws/preview.html",
        cycle=cycle,
        opened=opened,
        stale=stale,
        open_form=open_form,
        confirm_form=confirm_form,
        aside_form=aside_form,
        error=error,
        against_rules=against_rules,
        failed_rule=RULE_LABELS.get(rule) if rule else None,
        notice=notice,
        replaced=_replaced(opened[0]) if opened else None,
        kind=_kind(open_form.scope.data, open_form.review_id.data, open_form.replaces_id.data),
    ), status


def _replaced(draw: Draw) -> Assignment | None:
    if not draw.replaces_assignment_id:
        return None
    return db.session.get(Assignment, draw.replaces_assignment_id)


def _kind(scope: str, review_id: str, replaces_id: str) -> str:
    """What the open form would draw, in words."""
    if scope == "seat":
        return _("one seat, in place of a reviewer who dropped out")
    if scope == "review":
        review = db.session.get(Review, optional_int(review_id)) if review_id.isdigit() else None
        if review is not None:
            return _("the open seats of %(state)s's review", state=review.state.local_name)
    return _("the open seats of every review of the cycle")


def _stale(cycle: Cycle, opened: list[Draw]) -> bool:
    """Whether the open draw could no longer be confirmed (its inputs changed since opened)."""
    first = opened[0]
    try:
        plan = service.plan_draw(
            cycle,
            scope=first.scope,
            review=first.review if first.scope == "review" else None,
            replaces=_replaced(first),
            seed=first.seed,
        )
    except (SetupError, DrawRefused):
        return True
    return plan.fingerprint != first.pool.get("fingerprint")


@bp.route("/cycles/<int:cycle_id>/draws/preview")
def preview(cycle_id: int):
    """The open draw as recorded, or the form that opens one; a GET never draws."""
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    return _render_preview(cycle, request.args)


@bp.route("/cycles/<int:cycle_id>/draws/open", methods=["POST"])
def open_draw(cycle_id: int):
    """Record the seed (who, when) and the teams it gives, then show them (DESIGN §6)."""
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    form = OpenDrawForm()
    if not form.validate_on_submit():
        return _render_preview(cycle, request.form, status=422, open_form=form)
    try:
        scope, review, replaces, seed = _scope_objects(cycle, request.form)
        opened = service.open_draw(
            cycle,
            current_user,
            scope=scope,
            review=review,
            replaces=replaces,
            seed=seed,
            reason=form.reason.data or "",
        )
    except DrawRefused as refused:
        db.session.rollback()
        return _render_preview(
            cycle, request.form, error=service.explain(refused), status=422, open_form=form
        )
    except SetupError as refused:
        db.session.rollback()
        return _render_preview(cycle, request.form, error=str(refused), status=422, open_form=form)
    db.session.commit()
    flash(
        _(
            "Draw #%(number)d is open with seed %(seed)d, recorded with your name and the time. "
            "Check the teams, then confirm to invite the reviewers.",
            number=opened[0].batch,
            seed=opened[0].seed,
        ),
        "success",
    )
    return redirect(
        url_for(
            "draws.preview",
            cycle_id=cycle.id,
            scope=scope,
            review_id=review.id if review else None,
            replaces_id=replaces.id if replaces else None,
        )
    )


@bp.route("/cycles/<int:cycle_id>/draws/confirm", methods=["POST"])
def confirm(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    form = ConfirmDrawForm()
    if not form.validate_on_submit():
        return _render_preview(cycle, request.form, status=422)
    try:
        batch = optional_int(form.batch.data)
        if batch is None:
            raise SetupError(_("Open a draw first."))
        stored = service.confirm_open(
            cycle, current_user, batch=batch, fingerprint=form.fingerprint.data or ""
        )
    except service.PoolChanged as changed:
        db.session.rollback()
        return _render_preview(cycle, request.form, notice=str(changed), status=409)
    except (SetupError, ValueError) as refused:
        db.session.rollback()
        return _render_preview(cycle, request.form, notice=str(refused), status=422)
    db.session.commit()
    flash(
        ngettext(
            "Draw #%(number)d confirmed (seed %(seed)d): %(num)d review, the reviewers are "
            "invited and told by e-mail.",
            "Draw #%(number)d confirmed (seed %(seed)d): %(num)d reviews, the reviewers are "
            "invited and told by e-mail.",
            len(stored),
            number=stored[0].batch,
            seed=stored[0].seed,
        ),
        "success",
    )
    if len(stored) == 1:
        return redirect(url_for("draws.show", draw_id=stored[0].id))
    return redirect(url_for("draws.cycle_draws", cycle_id=cycle.id))


@bp.route("/cycles/<int:cycle_id>/draws/set-aside", methods=["POST"])
def set_aside(cycle_id: int):
    """Set the open draw aside, with a reason kept in the record; nobody is invited."""
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    form = SetAsideForm()
    if not form.validate_on_submit():
        return _render_preview(cycle, request.form, status=422)
    try:
        batch = optional_int(form.batch.data)
        if batch is None:
            raise SetupError(_("Open a draw first."))
        service.set_aside(cycle, current_user, batch=batch, reason=form.reason.data or "")
    except (SetupError, ValueError) as refused:
        db.session.rollback()
        return _render_preview(cycle, request.form, notice=str(refused), status=422)
    db.session.commit()
    flash(_("The draw was set aside; it stays in the draw record with your reason."), "success")
    return redirect(url_for("draws.cycle_draws", cycle_id=cycle.id))


@bp.route("/draws/<int:draw_id>")
def show(draw_id: int):
    draw = get_or_404(Draw, draw_id)
    access.require(current_user, "draw.manage", draw.cycle)
    return render_template(
        "draws/show.html",
        draw=draw,
        replaced=_replaced(draw),
        labels=RULE_LABELS,
        check=service.verify(draw),
    )
