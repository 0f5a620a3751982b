"""Personal access tokens on the user's account page (issue 19): create (the token is shown once),
list with last use, revoke. Every signed-in user may hold tokens; a token acts as its user."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import access
from app.extensions import db
from app.services import api_tokens as service
from app.services import clock
from app.web.tokens.forms import SCOPE_LABELS, TokenForm

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _render(form: TokenForm, created: str | None = None, status: int = 200):
    return (
        render_template(
            "tokens/index.html",
            form=form,
            tokens=service.tokens_of(current_user),
            created=created,
            now=clock.now(),
            scope_labels=SCOPE_LABELS,
        ),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    if not form.is_submitted():
        return _render(form)
    if not form.validate():
        return _render(form, status=422)
    try:
        _token, text = service.create_token(
            current_user, form.name.data, form.scopes.data, form.days.data
        )
    except service.TokenError as refused:
        db.session.rollback()
        form.name.errors = [*form.name.errors, str(refused)]
        return _render(form, status=422)
    db.session.commit()
    # shown once, on this answer only: never stored, never redirected through the session
    response, status = _render(TokenForm(formdata=None), created=text)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = service.token_of(current_user, token_id)
    if token is None:
        abort(404)
    access.require(current_user, "api_token.revoke", token, hide=True)
    if service.revoke_token(token, current_user):
        db.session.commit()
        flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for(".index"))
