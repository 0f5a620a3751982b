"""The secretariat's draw-by-lot pages (DESIGN §6): rules, reviewer pool, preview, stored draws.

Every URL is for the secretariat only (``draw.manage`` / ``pool.view`` in ``app/access.py``),
checked before every request of the blueprint. A preview (GET) stores nothing; its confirm form
posts the seed and the fingerprint of what was shown, and the draw is stored only if a re-run
with that seed sees the same inputs.
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
from app.web.draws.forms import ConfirmDrawForm, DrawRulesForm
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


def _render_preview(cycle: Cycle, values, *, notice: str | None = None, status: int = 200):
    """The preview page; a refusal is shown on it (the status is the caller's: a GET preview
    that cannot meet the rules is still a page that answers the question asked)."""
    plan, error, rule, against_rules = None, None, None, False
    try:
        scope, review, replaces, seed = _scope_objects(cycle, values)
        plan = service.plan_draw(cycle, scope=scope, review=review, replaces=replaces, seed=seed)
    except DrawRefused as refused:
        error, rule, against_rules = service.explain(refused), refused.rule, True
    except SetupError as refused:  # a bad seed or review, nothing to draw: not a rule failing
        error = str(refused)
    form = ConfirmDrawForm(formdata=None)
    if plan is not None:
        form.scope.data = plan.scope
        form.review_id.data = str(plan.requests[0].review_id) if plan.scope == "review" else ""
        form.replaces_id.data = str(plan.replaces.id) if plan.replaces else ""
        form.seed.data = str(plan.seed)
        form.fingerprint.data = plan.fingerprint
    return render_template(
        "draws/preview.html",
        cycle=cycle,
        plan=plan,
        form=form,
        error=error,
        against_rules=against_rules,
        failed_rule=RULE_LABELS.get(rule) if rule else None,
        notice=notice,
        values=values,
    ), status


@bp.route("/cycles/<int:cycle_id>/draws/preview")
def preview(cycle_id: int):
    """Nothing is stored: the proposed teams, the seed and the rules, with a confirm button."""
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    return _render_preview(cycle, request.args)


@bp.route("/cycles/<int:cycle_id>/draws/confirm", methods=["POST"])
def confirm(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    access.require(current_user, "draw.manage", cycle)
    form = ConfirmDrawForm()
    if not form.validate_on_submit():
        return _render_preview(cycle, request.form, status=422)
    try:
        scope, review, replaces, seed = _scope_objects(cycle, request.form)
        if seed is None:
            raise SetupError(_("The seed is missing: start again from the preview."))
        stored = service.confirm_draw(
            cycle,
            current_user,
            scope=scope,
            seed=seed,
            fingerprint=form.fingerprint.data or "",
            review=review,
            replaces=replaces,
        )
    except service.PoolChanged as changed:
        db.session.rollback()
        return _render_preview(cycle, request.form, notice=str(changed), status=409)
    except (SetupError, DrawRefused):
        db.session.rollback()
        return _render_preview(cycle, request.form, status=422)
    db.session.commit()
    flash(
        ngettext(
            "Drawn by lot with seed %(seed)d: %(num)d review, the reviewers are invited.",
            "Drawn by lot with seed %(seed)d: %(num)d reviews, the reviewers are invited.",
            len(stored),
            seed=seed,
        ),
        "success",
    )
    if len(stored) == 1:
        return redirect(url_for("draws.show", draw_id=stored[0].id))
    return redirect(url_for("draws.cycle_draws", cycle_id=cycle.id))


@bp.route("/draws/<int:draw_id>")
def show(draw_id: int):
    draw = get_or_404(Draw, draw_id)
    access.require(current_user, "draw.manage", draw.cycle)
    replaced = (
        db.session.get(Assignment, draw.replaces_assignment_id)
        if draw.replaces_assignment_id
        else None
    )
    return render_template("draws/show.html", draw=draw, replaced=replaced, labels=RULE_LABELS)
