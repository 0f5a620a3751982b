"""Sign in and sign out (Flask-Login); forgotten passwords and set-password links."""

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from app.extensions import db, limiter
from app.models import User
from app.services import password_links
from app.services.admin import SetupError
from app.web.auth.forms import ForgotPasswordForm, LoginForm, SetPasswordForm
from app.web.helpers import safe_next

bp = Blueprint("auth", __name__)


def _address_and_email() -> str:
    """The rate-limit key of a sign-in attempt: client address and the e-mail typed (lower case)."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"{request.remote_addr}|{email}"


def renew_csrf_token() -> None:
    """Forget the CSRF token of the anonymous session: a token read before signing in is refused
    after it (issue 14; OWASP: renew tokens when the privilege level changes)."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)


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
            renew_csrf_token()
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


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_address_and_email, methods=["POST"]
)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], methods=["POST"])
def forgot_password():
    """Ask for a set-password link. The answer is the same whether or not the address has an
    account (no account enumeration). The link is e-mailed through the outbox (marked secret: the
    outbox page never shows it); in development it is also written to the log."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = password_links.active_user_by_email(form.email.data)
        if user is not None:
            link = password_links.link_for(user)
            if current_app.config.get("PASSWORD_LINKS_IN_LOG"):
                current_app.logger.warning("set-password link for %s: %s", user.email, link)
            password_links.send_link(user, link, invitation=False)
            db.session.commit()
        flash(
            _(
                "If an active account uses this address, a link to set a new password has been "
                "sent to it by e-mail. It is valid for %(hours)d hours and works once.",
                hours=password_links.max_age() // 3600,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/forgot_password.html", form=form, hours=password_links.max_age() // 3600
    )


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], methods=["POST"])
def reset_password(token: str):
    """Set a password through a signed link (invitation or reset): expiring and single-use."""
    try:
        user = password_links.user_for_token(token)
    except password_links.LinkInvalid as refused:
        return render_template("auth/link_invalid.html", message=str(refused)), 404
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            password_links.set_password_with_token(token, form.password.data)
        except password_links.LinkInvalid as refused:
            db.session.rollback()
            return render_template("auth/link_invalid.html", message=str(refused)), 404
        except SetupError as refused:
            db.session.rollback()
            error = str(refused)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is set. Sign in with it."), "success")
            return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/set_password.html", form=form, user=user, error=error), status
