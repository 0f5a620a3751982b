"""Firing a workflow event from a posted form: one helper for every button of every lifecycle.

The form posts ``expected_status`` (the status the user saw) and, where the transition needs it,
``reason``. On success: flash and redirect. On a guard's refusal: the page is shown again with the
refusal and the typed reason kept (422). A stale status is a 409 "someone acted first".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_login import current_user

from app.services import guidance
from app.services.transitions import ActedFirst, apply_transition, lifecycle_of, refusal_text
from workflows import InvalidTransition, TransitionRefused


def fire_from_form(
    subject: Any,
    event: str,
    success_url: str,
    render_again: Callable[[dict], Any],
    facts: dict | None = None,
):
    """Apply ``event`` to ``subject`` with the posted reason; return a response.

    ``render_again(kept)`` renders the page again with ``kept = {"event": ..., "reason": ...,
    "error": ...}`` when a guard refuses.
    """
    reason = request.form.get("reason", "")
    expected = request.form.get("expected_status") or None
    lifecycle = lifecycle_of(subject)
    try:
        spec = lifecycle.spec(event)
    except InvalidTransition:
        from flask import abort

        abort(404)
    try:
        apply_transition(
            current_user, subject, event, reason=reason, expected_status=expected, facts=facts
        )
    except TransitionRefused as refused:
        message = refusal_text(refused.refusal)
        kept = {"event": event, "reason": reason, "error": message}
        response = render_again(kept)
        return response, 422
    except InvalidTransition:
        raise ActedFirst() from None
    flash(guidance.after_step(event, _(spec.label)), "success")
    return redirect(success_url)
