"""The Assignment lifecycle: one peer reviewer on one review (DESIGN §4).

invited → accepted (declaring no conflict) | declined (reason) | conflicted (details);
accepted → submitted (every section rated); submitted → accepted when returned;
invited|accepted → withdrawn; declined|withdrawn → invited (reinstate). Rows are never deleted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from workflows.base import (
    N_,
    Lifecycle,
    Refusal,
    TransitionSpec,
    context_guard,
    has_words,
    reason_given,
)


class AssignmentStatus(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONFLICTED = "conflicted"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


A = AssignmentStatus

LABELS = {
    A.INVITED: N_("Invited"),
    A.ACCEPTED: N_("Accepted"),
    A.DECLINED: N_("Declined"),
    A.CONFLICTED: N_("Conflict declared"),
    A.SUBMITTED: N_("Evaluation submitted"),
    A.WITHDRAWN: N_("Withdrawn"),
}

#: Statuses in which the reviewer still works on the review (counted as "open").
ACTIVE = (A.INVITED, A.ACCEPTED, A.SUBMITTED)


def no_conflict_declared(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``no_conflict`` — the reviewer ticked the no-conflict declaration."""
    if not facts.get("no_conflict"):
        return Refusal(N_("To accept, please declare that you have no conflict of interest."))
    return None


def conflict_details_given(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``reason`` — the details of the conflict."""
    if not has_words(facts.get("reason")):
        return Refusal(N_("Please describe the conflict of interest."))
    return None


def every_section_rated(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``unrated_sections`` — codes of sections without a rating."""
    unrated = list(facts.get("unrated_sections", []))
    if unrated:
        return Refusal(
            N_("Rate every section before submitting; missing: %(sections)s."),
            {"sections": ", ".join(unrated)},
        )
    return None


def active_reviewer(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``reviewer_active`` — the account is active and still a peer reviewer with a state."""
    if not facts.get("reviewer_active"):
        return Refusal(
            N_(
                "This account is no longer an active peer reviewer with a state, so it cannot be "
                "on a review team."
            )
        )
    return None


def not_own_state(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``own_state`` — the reviewer now belongs to the reviewed state (DESIGN §5)."""
    if facts.get("own_state"):
        return Refusal(N_("A reviewer cannot review their own state."))
    return None


#: Review statuses in which the team can still be formed (invitations answered, reinstated).
TEAM_FORMING = ("self_assessment", "screening", "peer_assignment", "evaluation")


@context_guard
def review_forming_team(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``review_status`` — invitations are answered only until the evaluation ends."""
    if facts.get("review_status") not in TEAM_FORMING:
        return Refusal(
            N_("The review is past its evaluation phase: its team can no longer change.")
        )
    return None


@context_guard
def review_in_evaluation(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``review_status`` — evaluations are submitted and returned only during evaluation."""
    if facts.get("review_status") != "evaluation":
        return Refusal(
            N_("Evaluations can be submitted or returned only during the evaluation phase.")
        )
    return None


SPECS = [
    TransitionSpec(
        "accept",
        (A.INVITED,),
        A.ACCEPTED,
        "assigned_reviewer",
        N_("Accept invitation"),
        (review_forming_team, active_reviewer, not_own_state, no_conflict_declared),
    ),
    TransitionSpec(
        "decline",
        (A.INVITED,),
        A.DECLINED,
        "assigned_reviewer",
        N_("Decline invitation"),
        (review_forming_team, reason_given),
        needs_reason=True,
        style="warning",
    ),
    TransitionSpec(
        "declare_conflict",
        (A.INVITED,),
        A.CONFLICTED,
        "assigned_reviewer",
        N_("Declare a conflict of interest"),
        (review_forming_team, conflict_details_given),
        needs_reason=True,
        style="warning",
    ),
    TransitionSpec(
        "submit_evaluation",
        (A.ACCEPTED,),
        A.SUBMITTED,
        "assigned_reviewer",
        N_("Submit evaluation"),
        (review_in_evaluation, every_section_rated),
    ),
    TransitionSpec(
        "return_evaluation",
        (A.SUBMITTED,),
        A.ACCEPTED,
        "secretariat_or_lead",
        N_("Return evaluation"),
        (review_in_evaluation, reason_given),
        needs_reason=True,
        style="warning",
    ),
    TransitionSpec(
        "withdraw_assignment",
        (A.INVITED, A.ACCEPTED),
        A.WITHDRAWN,
        "secretariat",
        N_("Withdraw reviewer"),
        (reason_given,),
        needs_reason=True,
        style="danger",
    ),
    TransitionSpec(
        "reinstate",
        (A.DECLINED, A.WITHDRAWN),
        A.INVITED,
        "secretariat",
        N_("Reinstate reviewer"),
        (review_forming_team, active_reviewer, not_own_state),
    ),
]

ASSIGNMENT = Lifecycle("assignment", AssignmentStatus, A.INVITED, SPECS, LABELS)
