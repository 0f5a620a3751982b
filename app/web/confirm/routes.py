"""Confirmation before irreversible steps (issue 16, item 2): the sentences and the fallback page.

Every button that takes an irreversible step is drawn by the ``confirm_submit`` macro
(``templates/_macros/confirm.html``). With JavaScript (``static/js/confirm.js``) a click opens an
accessible modal dialog saying in one sentence what will happen, who will be told and what can
no longer be changed; "Yes" then posts the form to its own action. Without JavaScript the button
posts the form here instead (its ``formaction``): this page shows the same sentence and posts the
same fields, unchanged, to the step's own URL. The step's route is the same either way and makes
its own checks; this page changes nothing and is for signed-in users only.

`SENTENCES` holds the sentence of each workflow event that needs one (``(lifecycle, event)``),
with ``%(state)s`` / ``%(cycle)s`` placeholders; `confirm_sentence` renders it for a subject.
Who is told follows ``app.services.notification_rules.RULES``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext
from flask_login import login_required

from app.web.helpers import safe_next
from workflows.base import N_

bp = Blueprint("confirm", __name__)

#: Fields of the posted form that belong to the confirmation itself, not to the step.
OWN_FIELDS = ("csrf_token", "_confirm_action", "_confirm_sentence", "_confirm_label")

SENTENCES: dict[tuple[str, str], str] = {
    ("review", "submit_self_assessment"): N_(
        "Your self-assessment goes to the secretariat for screening; the secretariat is told by "
        "e-mail, and you can no longer change your answers unless it returns them to you."
    ),
    ("review", "return_self_assessment"): N_(
        "The self-assessment goes back to %(state)s with your reason; its focal points are told "
        "by e-mail, and the review team cannot see it until the state submits it again."
    ),
    ("review", "accept_self_assessment"): N_(
        "The self-assessment of %(state)s is accepted and the review moves to peer assignment; "
        "the focal points see this on their review page, and they can no longer change their "
        "answers."
    ),
    ("review", "submit_draft_report"): N_(
        "The draft report goes to %(state)s for a factual-accuracy check; its focal points are "
        "told by e-mail, and the team can no longer edit it unless the secretariat returns it."
    ),
    ("review", "submit_factual_comments"): N_(
        "Your factual-accuracy comments go to the secretariat, which sees them on the report "
        "page before adopting the report; you can no longer change them."
    ),
    ("review", "adopt_report"): N_(
        "The report of %(state)s is adopted and the state is asked to respond to each "
        "recommendation; its focal points and the review team are told by e-mail, and the "
        "report can no longer be changed."
    ),
    ("review", "submit_response"): N_(
        "Your responses to every recommendation go to the secretariat and follow-up starts; "
        "you get a copy by e-mail, and you can no longer change whether a recommendation is "
        "supported or noted."
    ),
    ("review", "close_review"): N_(
        "The review of %(state)s is closed; its focal points see this on their review page, and "
        "progress and assessments can no longer be recorded unless it is reopened with a reason."
    ),
    ("assignment", "submit_evaluation"): N_(
        "Your evaluation goes to the lead reviewer and the secretariat, who are told by e-mail; "
        "you can no longer change it unless it is returned to you."
    ),
    ("cycle", "open_cycle"): N_(
        "The cycle %(cycle)s opens and its focal points can start their self-assessments; "
        "they see this on their home page, and the cycle can no longer go back to planning."
    ),
    ("cycle", "close_cycle"): N_(
        "The cycle %(cycle)s is closed; nobody is e-mailed, and its draws, reviews and deadlines "
        "can no longer be changed."
    ),
}


@bp.app_template_global("confirm_sentence")
def confirm_sentence(lifecycle: str, event: str, subject: Any) -> str | None:
    """The confirmation sentence of ``event`` on ``subject`` (a Review, an Assignment or a
    Cycle) in the reader's language, or None when the step needs no confirmation."""
    message = SENTENCES.get((lifecycle, event))
    if message is None:
        return None
    review = getattr(subject, "review", subject)
    state = getattr(getattr(review, "state", None), "name", "")
    cycle = getattr(subject, "name", "") or getattr(getattr(review, "cycle", None), "name", "")
    return gettext(message, state=state, cycle=cycle)


@bp.route("/confirm", methods=["POST"])
@login_required
def page():
    """The no-JavaScript confirmation: the sentence, and the step's form posted on unchanged.

    A target outside this site, or none, is a 400 (never an open redirect of a POST)."""
    action = safe_next(request.form.get("_confirm_action"))
    if action is None:
        abort(400)
    fields = [
        (name, value)
        for name, values in request.form.lists()
        if name not in OWN_FIELDS
        for value in values
    ]
    back = safe_next((request.referrer or "").partition(request.host_url.rstrip("/"))[2])
    return render_template(
        "confirm/page.html",
        action=action,
        fields=fields,
        sentence=request.form.get("_confirm_sentence", ""),
        label=request.form.get("_confirm_label", ""),
        back=back,
    )
