"""The Review lifecycle: one state's review in one cycle, through the five phases (DESIGN §4).

Statuses and the transition table follow DESIGN §4 row by row. Guards read a mapping of facts that
the transition service computes from the database (see each guard for the keys it needs).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workflows.base import N_, Lifecycle, Np_, Refusal, TransitionSpec, context_guard, reason_given


class ReviewStatus(enum.StrEnum):
    SELF_ASSESSMENT = "self_assessment"
    SCREENING = "screening"
    PEER_ASSIGNMENT = "peer_assignment"
    EVALUATION = "evaluation"
    FACTUAL_CHECK = "factual_check"
    RESPONSE = "response"
    FOLLOW_UP = "follow_up"
    ENHANCED_FOLLOW_UP = "enhanced_follow_up"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


S = ReviewStatus

LABELS = {
    S.SELF_ASSESSMENT: N_("Self-assessment"),
    S.SCREENING: N_("Screening"),
    S.PEER_ASSIGNMENT: N_("Peer assignment"),
    S.EVALUATION: N_("Evaluation"),
    S.FACTUAL_CHECK: N_("Factual check"),
    S.RESPONSE: N_("Response"),
    S.FOLLOW_UP: N_("Follow-up"),
    S.ENHANCED_FOLLOW_UP: N_("Enhanced follow-up"),
    S.CLOSED: N_("Closed"),
    S.WITHDRAWN: N_("Withdrawn"),
}

#: The five phases of the regime, each with the statuses that belong to it (progress tracker).
PHASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("self_assessment", N_("Self-assessment"), (S.SELF_ASSESSMENT, S.SCREENING)),
    ("peer_assignment", N_("Peer assignment"), (S.PEER_ASSIGNMENT,)),
    ("evaluation", N_("Evaluation"), (S.EVALUATION, S.FACTUAL_CHECK)),
    ("response", N_("Response"), (S.RESPONSE,)),
    ("follow_up", N_("Follow-up"), (S.FOLLOW_UP, S.ENHANCED_FOLLOW_UP, S.CLOSED)),
]


def all_required_answers_given(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``missing_required`` — codes of required questions without an answer."""
    missing = list(facts.get("missing_required", []))
    if missing:
        return Refusal(
            N_("%(count)d required questions are not answered yet: %(codes)s."),
            # every missing item, not the first few (issue 16, item 10)
            {"count": len(missing), "codes": ", ".join(missing)},
        )
    return None


def team_complete(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``team_size``, ``accepted_reviewers``, ``lead_count``, ``open_conflicts``."""
    if facts.get("open_conflicts", 0):
        return Refusal.counted(
            Np_(
                "%(count)d assignment has a declared conflict still open; withdraw it first.",
                "%(count)d assignments have a declared conflict still open; withdraw them first.",
            ),
            facts["open_conflicts"],
        )
    if facts.get("accepted_reviewers", 0) < facts.get("team_size", 1):
        return Refusal(
            N_("The team is not complete: %(accepted)d of %(size)d reviewers have accepted."),
            {"accepted": facts.get("accepted_reviewers", 0), "size": facts.get("team_size", 1)},
        )
    if facts.get("lead_count", 0) != 1:
        return Refusal(N_("Exactly one accepted reviewer must be the lead reviewer."))
    return None


def draft_report_ready(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``unsubmitted_assignments``, ``unrated_sections``, ``recommendation_count``."""
    if facts.get("unsubmitted_assignments", 0):
        return Refusal.counted(
            Np_(
                "%(count)d reviewer has not submitted their evaluation yet.",
                "%(count)d reviewers have not submitted their evaluation yet.",
            ),
            facts["unsubmitted_assignments"],
        )
    unrated = list(facts.get("unrated_sections", []))
    if unrated:
        return Refusal(
            N_("Give a consensus rating for every section; missing: %(sections)s."),
            {"sections": ", ".join(unrated)},
        )
    if facts.get("recommendation_count", 0) < 1:
        return Refusal(N_("The report needs at least one recommendation."))
    return None


@context_guard
def comments_not_sent_yet(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``factual_comments_sent`` (the state sent its comments on this draft). The state
    sends its factual-accuracy comments once per draft (issue 16: the page must not offer it
    again once done)."""
    if facts.get("factual_comments_sent"):
        return Refusal(
            N_("The state has already sent its factual-accuracy comments on this draft.")
        )
    return None


def commented_or_deadline_passed(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``factual_comments_sent`` (the state sent its comments, possibly none, on this
    draft), ``now`` and ``factual_check_deadline`` (aware UTC or None)."""
    if facts.get("factual_comments_sent"):
        return None
    deadline: datetime | None = facts.get("factual_check_deadline")
    now: datetime | None = facts.get("now")
    if deadline is not None and now is not None and now > deadline:
        return None
    return Refusal(
        N_(
            "The state has not sent its factual-accuracy comments on this draft and the "
            "factual-check deadline has not passed yet."
        )
    )


@context_guard
def cycle_open(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``cycle_status`` — the state works on its review only once the cycle is open."""
    if facts.get("cycle_status") != "open":
        return Refusal(N_("The cycle is not open: the secretariat opens it before states submit."))
    return None


@context_guard
def cycle_not_closed(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``cycle_status`` — a closed cycle keeps its reviews closed."""
    if facts.get("cycle_status") == "closed":
        return Refusal(N_("The cycle is closed: its reviews cannot be reopened."))
    return None


def all_recommendations_answered(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``unanswered_recommendations`` (count)."""
    if facts.get("unanswered_recommendations", 0):
        return Refusal.counted(
            Np_(
                "%(count)d recommendation has no response yet.",
                "%(count)d recommendations have no response yet.",
            ),
            facts["unanswered_recommendations"],
        )
    return None


def all_responses_complete(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``incomplete_responses`` — per answered recommendation still missing a part, its
    number and the parts missing, e.g. ``["2.1 (explanation, target date)"]``.

    Rule (issue 5, "submission needs all"): every response gives its position and an
    explanation; a supported recommendation also needs a planned action, a responsible
    institution and a target date (a noted one commits the state to no action, UPR practice).
    """
    incomplete = list(facts.get("incomplete_responses", []))
    if incomplete:
        return Refusal(
            N_("Complete every response before submitting; missing: %(responses)s."),
            {"responses": "; ".join(incomplete)},
        )
    return None


def all_recommendations_assessed(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``unassessed_recommendations`` (count)."""
    if facts.get("unassessed_recommendations", 0):
        return Refusal.counted(
            Np_(
                "%(count)d recommendation has no implementation assessment yet.",
                "%(count)d recommendations have no implementation assessment yet.",
            ),
            facts["unassessed_recommendations"],
        )
    return None


@context_guard
def next_cycle_opened(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``next_cycle`` — the name of a later cycle, open, in which the same state has a
    review, or None. Rule (issue 16, item 8): a review's follow-up is closed into the state's
    next review only once that review exists in an open cycle, so that its open
    recommendations are never tracked in two open reviews."""
    if not facts.get("next_cycle"):
        return Refusal(
            N_(
                "The follow-up can only be closed into the state's review of a later cycle, "
                "once that cycle is open."
            )
        )
    return None


@context_guard
def not_closed_into_next_cycle(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``closed_into_cycle`` — the name of the cycle this review's follow-up was closed
    into, or None. Reopening it would track its carried recommendations twice (issue 16)."""
    if facts.get("closed_into_cycle"):
        return Refusal(
            N_(
                "This review's follow-up was closed into %(cycle)s: its open recommendations "
                "are followed up there."
            ),
            {"cycle": facts["closed_into_cycle"]},
        )
    return None


_OPEN = tuple(s.value for s in S if s not in (S.CLOSED, S.WITHDRAWN))

SPECS = [
    TransitionSpec(
        "submit_self_assessment",
        (S.SELF_ASSESSMENT,),
        S.SCREENING,
        "focal_point",
        N_("Submit self-assessment"),
        (cycle_open, all_required_answers_given),
    ),
    TransitionSpec(
        "return_self_assessment",
        (S.SCREENING,),
        S.SELF_ASSESSMENT,
        "secretariat",
        N_("Return to the state"),
        (reason_given,),
        needs_reason=True,
        style="warning",
    ),
    TransitionSpec(
        "accept_self_assessment",
        (S.SCREENING,),
        S.PEER_ASSIGNMENT,
        "secretariat",
        N_("Accept self-assessment"),
    ),
    TransitionSpec(
        "start_evaluation",
        (S.PEER_ASSIGNMENT,),
        S.EVALUATION,
        "secretariat",
        N_("Start evaluation"),
        (team_complete,),
    ),
    TransitionSpec(
        "submit_draft_report",
        (S.EVALUATION,),
        S.FACTUAL_CHECK,
        "lead_reviewer",
        N_("Submit draft report"),
        (draft_report_ready,),
    ),
    TransitionSpec(
        "submit_factual_comments",
        (S.FACTUAL_CHECK,),
        None,
        "focal_point",
        N_("Send factual-accuracy comments"),
        (comments_not_sent_yet,),
    ),
    TransitionSpec(
        "return_draft_report",
        (S.FACTUAL_CHECK,),
        S.EVALUATION,
        "secretariat",
        N_("Return draft report to the team"),
        (reason_given,),
        needs_reason=True,
        style="warning",
    ),
    TransitionSpec(
        "adopt_report",
        (S.FACTUAL_CHECK,),
        S.RESPONSE,
        "secretariat",
        N_("Adopt report"),
        (commented_or_deadline_passed,),
    ),
    TransitionSpec(
        "submit_response",
        (S.RESPONSE,),
        S.FOLLOW_UP,
        "focal_point",
        N_("Submit response"),
        (all_recommendations_answered, all_responses_complete),
    ),
    TransitionSpec(
        "escalate",
        (S.FOLLOW_UP,),
        S.ENHANCED_FOLLOW_UP,
        "secretariat",
        N_("Escalate to enhanced follow-up"),
        (reason_given,),
        needs_reason=True,
        style="warning",
    ),
    # each round of enhanced follow-up ends with one of three decisions of the secretariat
    # (issue 17; GRECO's non-compliance procedure, FATF's enhanced follow-up): back to regular
    # follow-up, another enhanced round, or a formal notice that the plenary will discuss the
    # state's compliance (the procedure then continues with a new round)
    TransitionSpec(
        "deescalate",
        (S.ENHANCED_FOLLOW_UP,),
        S.FOLLOW_UP,
        "secretariat",
        N_("Return to regular follow-up"),
        (reason_given,),
        needs_reason=True,
    ),
    TransitionSpec(
        "hold_another_round",
        (S.ENHANCED_FOLLOW_UP,),
        None,
        "secretariat",
        N_("Hold another enhanced round"),
        (reason_given,),
        needs_reason=True,
        style="warning",
    ),
    TransitionSpec(
        "give_formal_notice",
        (S.ENHANCED_FOLLOW_UP,),
        None,
        "secretariat",
        N_("Give formal notice — the plenary will discuss compliance"),
        (reason_given,),
        needs_reason=True,
        style="danger",
    ),
    TransitionSpec(
        "close_review",
        (S.FOLLOW_UP,),
        S.CLOSED,
        "secretariat",
        N_("Close review"),
        (all_recommendations_assessed,),
    ),
    # fired by the transition service when the state's next cycle opens (or the state joins an
    # open cycle): the open recommendations were carried into the new review (issue 16, item 8)
    TransitionSpec(
        "close_into_next_cycle",
        (S.FOLLOW_UP, S.ENHANCED_FOLLOW_UP),
        S.CLOSED,
        "secretariat",
        N_("Close follow-up into the next cycle"),
        (next_cycle_opened,),
    ),
    TransitionSpec(
        "withdraw",
        _OPEN,
        S.WITHDRAWN,
        "secretariat",
        N_("Withdraw review"),
        (reason_given,),
        needs_reason=True,
        style="danger",
    ),
    TransitionSpec(
        "reopen",
        (S.CLOSED,),
        S.FOLLOW_UP,
        "secretariat",
        N_("Reopen review"),
        (cycle_not_closed, not_closed_into_next_cycle, reason_given),
        needs_reason=True,
        style="warning",
    ),
]

REVIEW = Lifecycle("review", ReviewStatus, S.SELF_ASSESSMENT, SPECS, LABELS)


def phase_of(status: str) -> str | None:
    """The phase key (one of `PHASES`) a status belongs to; None for withdrawn."""
    for key, _label, statuses in PHASES:
        if status in statuses:
            return key
    return None
