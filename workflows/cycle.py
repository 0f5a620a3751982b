"""The Cycle lifecycle: planning → open (framework pinned, ≥1 state) → closed (DESIGN §4)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from workflows.base import N_, Lifecycle, Np_, Refusal, TransitionSpec


class CycleStatus(enum.StrEnum):
    PLANNING = "planning"
    OPEN = "open"
    CLOSED = "closed"


C = CycleStatus

LABELS = {C.PLANNING: N_("Planning"), C.OPEN: N_("Open"), C.CLOSED: N_("Closed")}


def ready_to_open(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``has_framework``, ``review_count``."""
    if not facts.get("has_framework"):
        return Refusal(N_("Pin a framework version before opening the cycle."))
    if facts.get("review_count", 0) < 1:
        return Refusal(N_("Add at least one participating state before opening the cycle."))
    return None


def all_reviews_finished(facts: Mapping[str, Any]) -> Refusal | None:
    """Facts: ``unfinished_reviews`` — how many reviews are neither closed nor withdrawn;
    ``unfinished_states`` — the names of (some of) their states."""
    if facts.get("unfinished_reviews", 0):
        return Refusal.counted(
            Np_(
                "%(count)d review is neither closed nor withdrawn: %(states)s.",
                "%(count)d reviews are neither closed nor withdrawn: %(states)s.",
            ),
            facts["unfinished_reviews"],
            states=", ".join(facts.get("unfinished_states", [])),
        )
    return None


SPECS = [
    TransitionSpec(
        "open_cycle", (C.PLANNING,), C.OPEN, "secretariat", N_("Open cycle"), (ready_to_open,)
    ),
    TransitionSpec(
        "close_cycle",
        (C.OPEN,),
        C.CLOSED,
        "secretariat",
        N_("Close cycle"),
        (all_reviews_finished,),
        style="warning",
    ),
]

CYCLE = Lifecycle("cycle", CycleStatus, C.PLANNING, SPECS, LABELS)
