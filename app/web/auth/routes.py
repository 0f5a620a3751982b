"""Sign in and sign out (Flask-Login)."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models import User
from app.web.auth.forms import LoginForm
from app.web.helpers import safe_next

bp = Blueprint("auth", __name__)


def _address_and_email() -> str:
    """The rate-limit key of a sign-in attempt: client address and the e-mail typed (lower case)."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{request.remote_addr}|{email}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_address_and_email, methods=["POST"]
)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        )
        if user is None or not user.check_password(form.password.data) or not user.active:
            flash(_("E-mail or password is not correct."), "danger")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash(_("You are signed out, on this device and every other one."), "info")
    return redirect(url_for("auth.login"))
