"""Home page ("what needs me now") and the reference list of states."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models import State
from app.services.worklist import next_deadline, own_assignments, tasks_for, visible_reviews

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def home():
    reviews = visible_reviews(current_user)
    return render_template(
        "main/home.html",
        tasks=tasks_for(current_user),
        reviews=reviews,
        own_assignments=own_assignments(current_user),
        next_deadline=next_deadline,
    )


@bp.route("/states")
@login_required
def states():
    rows = db.session.scalars(select(State).order_by(State.regional_group, State.name)).all()
    return render_template("main/states.html", states=rows)
