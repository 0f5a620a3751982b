"""Template globals and filters shared by every page, and small route helpers.

Times: instants are stored in UTC and shown in the cycle's IANA time zone with the zone named
(DESIGN §8); ``app.services.clock.end_of_day`` turns an entered date into an instant.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, abort, make_response, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import access
from app.extensions import db
from app.formatting import (
    format_date,
    format_instant,
    format_list,
    format_number,
    format_share,
)
from app.i18n import LANGUAGES, current_language, state_name_from_english, text_direction
from app.models import ACTION_CATEGORIES, CAPACITY_LEVELS, REGIONAL_GROUP_LABELS, ROLE_LABELS
from app.services import clock, reference
from app.services.evidence import format_size
from app.services.transitions import available_specs
from app.services.worklist import STAGE_OF_STATUS
from workflows import ASSIGNMENT, CYCLE, PHASES, REVIEW
from workflows.base import N_
from workflows.review import phase_of

#: Delivery statuses of an e-mail (``app.models.notification.NotificationStatus``).
NOTIFICATION_STATUS_LABELS = {
    "queued": _l("Queued"),
    "sent": _l("Sent"),
    "failed": _l("Failed (will be retried)"),
    "abandoned": _l("Abandoned"),
}


def group_label(group) -> str:
    """A regional group (`RegionalGroup` or its stored value) named in the reader's language."""
    for known, label in REGIONAL_GROUP_LABELS.items():
        if group == known or group == known.value:
            return gettext(label)
    return str(group) if group else "—"


def state_label(state) -> str:
    """A state (a `State`, or the stored English name that rows and e-mail contexts carry)
    named in the reader's language."""
    if state is None:
        return "—"
    if hasattr(state, "local_name"):
        return state.local_name
    return state_name_from_english(str(state))


def section_label(title: str | None) -> str:
    """A framework section's stored English title (as rows carry it, optionally numbered
    ``"3. Title"``) in the reader's language."""
    if not title:
        return "—"
    number, dot, rest = title.partition(". ")
    if dot and number.isdigit():
        return f"{number}. {section_label(rest)}"
    return reference.section_titles(current_language()).get(title, title)


def status_label(lifecycle: str, status: str) -> str:
    """The translated label of ``status`` in ``lifecycle`` (review, assignment, cycle, or
    notification for an e-mail's delivery status)."""
    if lifecycle == "notification":
        return str(NOTIFICATION_STATUS_LABELS[str(status)])
    machine = {"review": REVIEW, "assignment": ASSIGNMENT, "cycle": CYCLE}[lifecycle]
    return gettext(machine.label(str(status)))


def event_label(lifecycle: str, event: str) -> str:
    """The translated button label of ``event`` (e.g. "Submit self-assessment"); events outside
    the table (an invitation, a cascade) get a readable fallback."""
    machine = {"review": REVIEW, "assignment": ASSIGNMENT, "cycle": CYCLE}[lifecycle]
    try:
        return gettext(machine.spec(event).label)
    except Exception:  # noqa: BLE001 — not a table event: show its name
        return event.replace("_", " ").capitalize()


BADGE = {
    "self_assessment": "secondary",
    "screening": "info",
    "peer_assignment": "info",
    "evaluation": "primary",
    "factual_check": "primary",
    "response": "warning",
    "follow_up": "success",
    "enhanced_follow_up": "danger",
    "closed": "dark",
    "withdrawn": "light",
    "invited": "info",
    "accepted": "primary",
    "submitted": "success",
    "declined": "light",
    "conflicted": "warning",
    "planning": "secondary",
    "open": "success",
}


def phase_steps(status: str) -> list[dict]:
    """The five phases for the progress tracker, each marked done / current / todo."""
    current = phase_of(str(status))
    keys = [key for key, _label, _statuses in PHASES]
    index = keys.index(current) if current in keys else -1
    steps = []
    for i, (key, label, _statuses) in enumerate(PHASES):
        if str(status) == "closed" or i < index:
            state = "done"
        elif i == index:
            state = "current"
        else:
            state = "todo"
        text = gettext(label)
        if key == "evaluation":  # the factual check is named inside step 3 (issue 16)
            text = gettext("Evaluation and factual check")
        steps.append({"key": key, "label": text, "state": state})
    return steps


def is_overdue(due_at: datetime | None) -> bool:
    return due_at is not None and clock.now() > due_at


#: How the transition table's ``by`` reads on screen (the rules themselves live in app/access.py).
ACTOR_LABELS = {
    "secretariat": _l("secretariat"),
    "focal_point": _l("focal point of the state"),
    "lead_reviewer": _l("lead reviewer"),
    "assigned_reviewer": _l("the invited peer reviewer"),
    "secretariat_or_lead": _l("secretariat or lead reviewer"),
}


def lifecycle_diagram(lifecycle: str, current: str | None = None) -> str:
    """Mermaid source of ``lifecycle`` ("review", "assignment", "cycle") in the reader's language,
    ``current`` status marked; drawn from the very definitions in ``workflows/``."""
    machine = {"review": REVIEW, "assignment": ASSIGNMENT, "cycle": CYCLE}[lifecycle]
    actors = {key: str(label) for key, label in ACTOR_LABELS.items()}
    return machine.mermaid(current, translate=gettext, actors=actors)


#: What each workflow guard checks, in words (translated where shown); a guard not listed reads
#: as its function name with spaces.
GUARD_LABELS = {
    "active_reviewer": N_("the reviewer's account is active"),
    "all_recommendations_answered": N_("every recommendation answered"),
    "all_recommendations_assessed": N_("every recommendation assessed"),
    "all_required_answers_given": N_("every required answer given"),
    "all_responses_complete": N_("every response complete"),
    "all_reviews_finished": N_("every review closed or withdrawn"),
    "commented_or_deadline_passed": N_("the state commented, or the factual-check deadline passed"),
    "conflict_details_given": N_("details of the conflict given"),
    "cycle_not_closed": N_("the cycle is not closed"),
    "cycle_open": N_("the cycle is open"),
    "draft_report_ready": N_("draft report ready"),
    "every_section_rated": N_("every section rated"),
    "no_conflict_declared": N_("no conflict of interest declared"),
    "not_own_state": N_("not the reviewer's own state"),
    "ready_to_open": N_("framework chosen and at least one state"),
    "reason_given": N_("reason given"),
    "review_forming_team": N_("the review is forming its team"),
    "review_in_evaluation": N_("the review is in evaluation"),
    "team_complete": N_("team complete"),
}


def guard_names(spec) -> list[str]:
    """Readable names of a spec's guards in the reader's language (``all_required_answers_given``
    → "every required answer given"), for the text version of the diagrams."""
    names = []
    for guard in spec.guards:
        name = getattr(guard, "__name__", "guard")
        label = GUARD_LABELS.get(name)
        names.append(gettext(label) if label else name.replace("_", " "))
    return names


def diagram_page(body, status: int = 200) -> Response:
    """A response for a page that draws diagrams: inline styles allowed for mermaid's SVG only
    here (see ``DIAGRAM_CONTENT_SECURITY_POLICY``); scripts stay same-origin only."""
    from app import DIAGRAM_CONTENT_SECURITY_POLICY

    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = DIAGRAM_CONTENT_SECURITY_POLICY
    return response


def actor_name(actor, review) -> str:
    """How the person who took a step on ``review`` is named to the viewer: their display name,
    except a peer reviewer's to anyone `access` refuses ``review.reviewer_names`` (the reviewed
    state's focal points), who read "the review team" (issue 14); no actor: "system"."""
    from app.models import Role

    if actor is None:
        return gettext("system")
    if actor.role == Role.REVIEWER and not access.can(
        current_user, "review.reviewer_names", review
    ):
        return gettext("the review team")
    return actor.display_name


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _unread_notifications() -> int:
    """The signed-in user's unread notifications, for the navigation bar (one COUNT query)."""
    from app.services.notifications import unread_count

    return unread_count(current_user) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=lambda action, obj=None: access.can(current_user, action, obj),
        available_specs=lambda subject: available_specs(current_user, subject),
        status_label=status_label,
        event_label=event_label,
        phase_steps=phase_steps,
        badge=lambda status: BADGE.get(str(status), "secondary"),
        is_overdue=is_overdue,
        lifecycle_diagram=lifecycle_diagram,
        actor_labels=ACTOR_LABELS,
        guard_names=guard_names,
        capacity_levels=CAPACITY_LEVELS,
        action_categories=ACTION_CATEGORIES,
        role_labels=ROLE_LABELS,
        now=clock.now,
        current_stage=lambda review: STAGE_OF_STATUS.get(review.status),
        unread_notifications=_unread_notifications,
        actor_name=actor_name,
        languages=LANGUAGES,
        current_language=current_language,
        text_direction=text_direction,
    )
    app.jinja_env.filters.update(
        instant=format_instant,
        day=format_date,
        filesize=format_size,
        number=format_number,
        share=format_share,
        join_list=format_list,
        state=state_label,
        group=group_label,
        section=section_label,
    )
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def _request_path() -> dict:
        return {"request_path": request.path}
