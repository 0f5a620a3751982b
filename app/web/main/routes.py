"""Home page ("what needs me now") and the reference list of states."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.access import require
from app.extensions import db
from app.i18n import normalise_language
from app.models import RegionalGroup, Role, State
from app.services import guidance, preferences, reference
from app.services.worklist import (
    new_midterm_reports,
    next_deadline,
    own_assignments,
    tasks_for,
    visible_reviews,
)
from app.web.helpers import safe_next
from app.web.listing import paginate

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def home():
    # partners and stakeholders have no review of their own: their home is their area (issue 18)
    if current_user.role == Role.PARTNER:
        return redirect(url_for("assistance.index"))
    if current_user.role == Role.STAKEHOLDER:
        return redirect(url_for("stakeholders.index"))
    reviews = visible_reviews(current_user)
    mine = own_assignments(current_user)
    return render_template(
        "main/home.html",
        tasks=tasks_for(current_user),
        new_midterms=new_midterm_reports(current_user),
        reviews=reviews,
        own_assignments=mine,
        next_deadline=next_deadline,
        # the same "What happens next" sentence as on each review page (issue 16, item 4)
        next_steps=guidance.next_steps(current_user, list(reviews), mine),
    )


@bp.route("/states")
@login_required
def states():
    """The 193 UN member states: filter by name or code (``q``) and regional group (``group``),
    sort by name, code or group, 50 a page. An unknown group is ignored with a note."""
    text = request.args.get("q", "").strip()
    group = request.args.get("group", "")
    chosen = next((g for g in RegionalGroup if g.value == group), None)
    query = reference.states_query(text, chosen)
    listing = paginate(
        query,
        {
            "name": (State.name,),
            "code": (State.code,),
            "group": (State.regional_group, State.name),
        },
        default="name",
        tiebreak=State.id,
        by_reader={"name": lambda state: state.local_name},
    )
    return render_template(
        "main/states.html",
        listing=listing,
        groups=list(RegionalGroup),
        text=text,
        group=chosen.value if chosen else "",
        ignored_group=bool(group) and chosen is None,
    )


@bp.route("/language", methods=["POST"])
def choose_language():
    """The language switcher on every page (DESIGN §11): stores the choice on the signed-in
    user's account (their e-mails follow it) and in the session, then returns to ``next``."""
    require(current_user, "language.choose")
    language = normalise_language(request.form.get("language", ""))
    if language is None:
        flash(_("That language is not offered here; please choose one from the list."), "warning")
    else:
        preferences.choose_language(current_user, language)
        session["language"] = language
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))
