"""Pure-Python workflow definitions for Pillars (DESIGN §4).

Each lifecycle (Review, Assignment, Cycle) is declared as data and compiled into one module-level
`transitions` machine (``model=None``, ``auto_transitions=False``, ``send_event=True``). Nothing in
this package imports Flask or SQLAlchemy: the application's transition service
(``app/services/transitions.py``) gathers the facts a guard needs, fires the event here, and
persists the result.
"""

from workflows.assignment import ASSIGNMENT, AssignmentStatus
from workflows.base import InvalidTransition, Lifecycle, Refusal, TransitionRefused, TransitionSpec
from workflows.cycle import CYCLE, CycleStatus
from workflows.review import PHASES, REVIEW, ReviewStatus

__all__ = [
    "ASSIGNMENT",
    "CYCLE",
    "PHASES",
    "REVIEW",
    "AssignmentStatus",
    "CycleStatus",
    "InvalidTransition",
    "Lifecycle",
    "Refusal",
    "ReviewStatus",
    "TransitionRefused",
    "TransitionSpec",
]
