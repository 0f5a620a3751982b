"""Sign in and sign out (Flask-Login) with the second step when the account has a second factor;
its enrolment; forgotten passwords and set-password links. Every sign-in, failed sign-in and
sign-out is recorded in the account audit log (issue 14)."""

import hashlib
import hmac
import time

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
from markupsafe import Markup
from sqlalchemy import func, select

from app import access
from app.extensions import db, limiter
from app.i18n import current_language
from app.models import User
from app.services import account_audit, password_links
from app.services import two_factor as two_factor_service
from app.services.admin import SetupError
from app.services.two_factor import needs_enrolment
from app.web.auth.forms import (
    CodeForm,
    EnrolForm,
    ForgotPasswordForm,
    LoginForm,
    RenewCodesForm,
    SetPasswordForm,
)
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
        typed = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == typed))
        right = user is not None and user.check_password(form.password.data)
        if not right or not user.active:
            if user is None:
                detail = {"reason": "unknown_account", "email": typed[:254]}
            else:
                detail = {"reason": "inactive" if right else "wrong_password"}
            account_audit.record("sign_in_failed", subject=user, actor=None, detail=detail)
            db.session.commit()
            flash(_("E-mail or password is not correct."), "danger")
        elif user.has_two_factor:
            # the password is right: the second step decides; nothing is signed in yet
            session[PENDING] = {
                "user": user.id,
                "token": _token_mark(user),
                "remember": bool(form.remember.data),
                "next": safe_next(request.args.get("next")) or "",
                "at": int(time.time()),
            }
            return redirect(url_for("auth.second_factor"))
        else:
            _complete_sign_in(user, remember=form.remember.data and not needs_enrolment(user))
            if needs_enrolment(user):
                return redirect(url_for("auth.two_factor"))
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


#: Session key of a sign-in whose password was right and whose second step is awaited.
PENDING = "two_factor_pending"
#: Seconds the second step may take after the password.
PENDING_SECONDS = 300


def _complete_sign_in(user: User, *, remember: bool, method: str = "") -> None:
    """Sign ``user`` in on this browser (a new CSRF token) and record it; commits."""
    session.pop(PENDING, None)
    renew_csrf_token()
    login_user(user, remember=remember)
    account_audit.record(
        "sign_in", subject=user, actor=user, detail={"method": method} if method else None
    )
    db.session.commit()


def _token_mark(user: User) -> str:
    """A digest of the account's session token: the pending second step is tied to it (a new
    password or a sign-out everywhere voids it) without putting the token in the cookie."""
    return hashlib.sha256(f"2fa|{user.session_token}".encode()).hexdigest()[:32]


def _pending_user() -> tuple[User | None, dict]:
    """The account waiting for its second step, if the wait is recent and the account
    unchanged since the password was checked (no new password, no sign-out everywhere)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, {}
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or not user.has_two_factor:
        return None, {}
    if not hmac.compare_digest(_token_mark(user), str(pending.get("token", ""))):
        return None, {}
    return user, pending


def _pending_key() -> str:
    """Rate-limit key of a second step: the client address and the account waiting."""
    pending = session.get(PENDING)
    ident = pending.get("user") if isinstance(pending, dict) else ""
    return f"{request.remote_addr}|2fa|{ident}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_pending_key, methods=["POST"]
)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ADDRESS"], methods=["POST"])
def second_factor():
    """The second step of signing in (issue 14): an authenticator or recovery code. The
    remember-me cookie is set only here, after both steps."""
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Sign in again: the second step waited too long or the account changed."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = two_factor_service.verify(user, form.code.data)
        except two_factor_service.TwoFactorError as refused:
            db.session.rollback()
            account_audit.record(
                "sign_in_failed", subject=user, actor=None, detail={"reason": "wrong_code"}
            )
            db.session.commit()
            form.code.errors = [str(refused)]
        else:
            _complete_sign_in(user, remember=pending.get("remember", False), method=method)
            if method == "recovery code":
                flash(
                    _(
                        "You signed in with a recovery code: %(left)d left. Make new ones on "
                        "the two-step sign-in page if you run short.",
                        left=two_factor_service.recovery_codes_left(user),
                    ),
                    "warning",
                )
            return redirect(pending.get("next") or url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/second_factor.html", form=form), status


def _account_key() -> str:
    """Rate-limit key of a code typed on the set-up page: the client address and the account."""
    ident = current_user.get_id().partition(".")[0] if current_user.is_authenticated else ""
    return f"{request.remote_addr}|2fa-setup|{ident}"


@bp.route("/account/two-factor", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_account_key, methods=["POST"]
)
@login_required
def two_factor():
    """Set up the second factor (QR code and key, confirmed with a first code; then the ten
    recovery codes, shown once), or, once set up, see it and renew the recovery codes."""
    user = current_user._get_current_object()
    access.require(user, "account.two_factor", user)
    if user.has_two_factor:
        form = RenewCodesForm()
        if form.validate_on_submit():
            try:
                codes = two_factor_service.renew_recovery_codes(user, form.code.data)
            except two_factor_service.TwoFactorError as refused:
                db.session.rollback()
                form.code.errors = [str(refused)]
            else:
                db.session.commit()
                return _show_codes(codes)
        return render_template(
            "auth/two_factor.html",
            form=form,
            left=two_factor_service.recovery_codes_left(user),
            required=two_factor_service.required_for(user),
        ), (422 if form.errors else 200)
    form = EnrolForm()
    secret = two_factor_service.pending_secret(user)
    db.session.commit()
    if form.validate_on_submit():
        try:
            codes = two_factor_service.confirm_enrolment(user, form.code.data)
        except two_factor_service.TwoFactorError as refused:
            db.session.rollback()
            form.code.errors = [str(refused)]
        else:
            db.session.commit()
            renew_csrf_token()
            login_user(user)  # with the new session token: other sessions have ended
            return _show_codes(codes)
    uri = two_factor_service.provisioning_uri(user, secret)
    page = render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr=Markup(two_factor_service.qr_svg(uri)),  # noqa: S704  # nosec B704 — segno's own SVG
        key=two_factor_service.grouped(secret),
        required=two_factor_service.required_for(user),
    )
    return page, (422 if form.errors else 200), {"Cache-Control": "no-store"}


def _show_codes(codes: list[str]):
    page = render_template("auth/recovery_codes.html", codes=codes)
    return page, 200, {"Cache-Control": "no-store"}


#: What an account that must enrol may still reach (issue 14).
ENROLMENT_OPEN = frozenset(
    {"auth.two_factor", "auth.logout", "auth.login", "static", "ops.healthz", "main.index"}
)


@bp.before_app_request
def enrolment_first():
    """An account that must use a second factor and has none reaches only the enrolment page
    (and signing out)."""
    if request.endpoint in ENROLMENT_OPEN or request.endpoint is None:
        return None
    if request.blueprint == "public":
        return None
    if current_user.is_authenticated and needs_enrolment(current_user):
        return redirect(url_for("auth.two_factor"))
    return None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # the sign-in page that follows stays in the language the person was using
    language = current_language()
    account_audit.record("sign_out", subject=current_user, actor=current_user)
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session["language"] = language
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
            account_audit.record(
                "link_issued",
                subject=user,
                actor=None,
                detail={"purpose": "reset", "delivery": "e-mail"},
            )
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
            changed = password_links.set_password_with_token(token, form.password.data)
            account_audit.record(
                "password_set",
                subject=changed,
                actor=changed,  # the holder of the link
            )
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
