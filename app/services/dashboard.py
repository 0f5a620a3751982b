"""The secretariat's dashboard of a cycle (DESIGN §8): every review's phase, days in phase, next
deadline and overdue flag; reviewer workload; responses and implementation by section and state.

Read only. The whole dashboard is built in a fixed number of queries (currently 5), whatever the
number of reviews, recommendations or reviewers: every figure is a grouped query, never a query
per row. Instants are aware UTC; the page shows them in the cycle's IANA time zone. "Days in
phase" counts whole days from the latest TransitionLog row that moved the review into its current
status from another one (the review's creation when none did) to now.

Implementation is the *latest* secretariat assessment of each recommendation (GRECO scale:
implemented / partially implemented / not implemented / no longer applicable), or "not assessed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, String, case, func, literal, null, select, type_coerce, union_all

from app.extensions import db
from app.models import (
    AssessmentStatus,
    Assignment,
    Cycle,
    FrameworkSection,
    Recommendation,
    Response,
    ResponsePosition,
    Review,
    ReviewDeadline,
    State,
    TransitionLog,
    User,
)
from app.services import clock
from app.services.worklist import STAGE_OF_STATUS
from workflows import AssignmentStatus, ReviewStatus

#: Response columns of the figures, in display order ("none" = not answered yet).
RESPONSE_KEYS = (ResponsePosition.SUPPORTED.value, ResponsePosition.NOTED.value, "none")
#: Assignments that ended without an evaluation (one column of the workload table).
ENDED = (AssignmentStatus.DECLINED, AssignmentStatus.CONFLICTED, AssignmentStatus.WITHDRAWN)
#: Implementation columns: the latest assessment, or "not_assessed".
IMPLEMENTATION_KEYS = (*(s.value for s in AssessmentStatus), "not_assessed")


@dataclass
class ReviewRow:
    """One review's line: state, phase, days in the current status, next deadline (the current
    stage's, aware UTC, None when the status has no deadline), overdue flag."""

    review_id: int
    state_name: str
    state_code: str
    status: ReviewStatus
    entered_at: datetime
    days_in_phase: int
    due_at: datetime | None
    overdue: bool


@dataclass
class Workload:
    """A reviewer's assignments in the cycle, counted by assignment status."""

    reviewer_id: int
    name: str
    state: str
    by_status: dict[str, int] = field(default_factory=dict)
    leads: int = 0

    @property
    def columns(self) -> tuple[int, int, int, int]:
        """The page's columns: invited, accepted, submitted, and declined + conflicted +
        withdrawn."""
        get = self.by_status.get
        ended = sum(get(s.value, 0) for s in ENDED)
        return (get("invited", 0), get("accepted", 0), get("submitted", 0), ended)

    @property
    def active(self) -> int:
        """Assignments still to work on: invited or accepted."""
        return self.by_status.get(AssignmentStatus.INVITED.value, 0) + self.by_status.get(
            AssignmentStatus.ACCEPTED.value, 0
        )


@dataclass
class Figures:
    """Counts by a label (a section or a state), one dict of column → count per label."""

    keys: tuple[str, ...]
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    #: drill-down: the review of a state's row, the section code of a section's row
    review_of: dict[str, int] = field(default_factory=dict)
    section_of: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, key: str, count: int) -> None:
        row = self.rows.setdefault(label, dict.fromkeys(self.keys, 0))
        row[key] += count

    def chart(self) -> dict:
        """``{"labels": [...], "series": {key: [counts in label order]}}`` for the chart."""
        labels = list(self.rows)
        return {
            "labels": labels,
            "series": {key: [self.rows[label][key] for label in labels] for key in self.keys},
        }


@dataclass
class Dashboard:
    cycle: Cycle
    now: datetime
    reviews: list[ReviewRow]
    workload: list[Workload]
    responses_by_section: Figures
    responses_by_state: Figures
    implementation_by_section: Figures
    implementation_by_state: Figures

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.reviews if row.overdue)

    def chart_data(self) -> dict:
        """Everything the charts draw, JSON-ready."""
        return {
            "responses_by_section": self.responses_by_section.chart(),
            "responses_by_state": self.responses_by_state.chart(),
            "implementation_by_section": self.implementation_by_section.chart(),
            "implementation_by_state": self.implementation_by_state.chart(),
        }


def build(cycle: Cycle) -> Dashboard:
    """The dashboard of ``cycle`` at `clock.now()`; a fixed number of queries."""
    now = clock.now()
    # columns, not ORM objects: 193 reviews and their deadlines as instances cost more than the
    # SQL (issue 9's benchmark); the deadline joined is the current stage's (`next_deadline`)
    stage = case(STAGE_OF_STATUS, value=Review.status)
    # the entry into the current status, looked up per review through the (subject_type,
    # subject_id) index: a join let PostgreSQL scan every cycle's TransitionLog (issue 20)
    entered = (
        select(func.max(TransitionLog.created_at))
        .where(
            TransitionLog.subject_type == "review",
            TransitionLog.subject_id == Review.id,
            TransitionLog.to_state == Review.status,
            # a step that stays in the status (factual comments sent) is not an entry
            TransitionLog.from_state != TransitionLog.to_state,
        )
        .scalar_subquery()
    )
    reviews = db.session.execute(
        select(
            Review.id,
            State.name,
            State.code,
            Review.status,
            Review.created_at,
            ReviewDeadline.due_at,
            entered,
        )
        .join(State, Review.state_id == State.id)
        .outerjoin(
            ReviewDeadline,
            (ReviewDeadline.review_id == Review.id) & (ReviewDeadline.stage == stage),
        )
        .where(Review.cycle_id == cycle.id)
        .order_by(State.name)
    ).all()
    rows = []
    for review_id, state_name, state_code, status, created_at, due_at, entered_at in reviews:
        since = entered_at or created_at
        rows.append(
            ReviewRow(
                review_id=review_id,
                state_name=state_name,
                state_code=state_code,
                status=status,
                entered_at=since,
                days_in_phase=max(0, (now - since).days),
                due_at=due_at,
                overdue=due_at is not None and now > due_at,
            )
        )
    return Dashboard(
        cycle=cycle,
        now=now,
        reviews=rows,
        workload=_workload(cycle),
        **_recommendation_figures(cycle),
    )


def _workload(cycle: Cycle) -> list[Workload]:
    """Reviewers with assignments in ``cycle``, most active first; one query."""
    result = db.session.execute(
        select(
            User.id,
            User.display_name,
            State.name,
            Assignment.status,
            func.count(Assignment.id),
            func.sum(case((Assignment.is_lead, 1), else_=0)),
        )
        .join(Assignment, Assignment.reviewer_id == User.id)
        .join(Review, Review.id == Assignment.review_id)
        .outerjoin(State, State.id == User.state_id)
        .where(Review.cycle_id == cycle.id)
        .group_by(User.id, User.display_name, State.name, Assignment.status)
    ).all()
    people: dict[int, Workload] = {}
    for user_id, name, state, status, count, leads in result:
        person = people.setdefault(user_id, Workload(user_id, name, state or "—"))
        person.by_status[str(status)] = count  # a StrEnum: its value
        if status in (
            AssignmentStatus.INVITED,
            AssignmentStatus.ACCEPTED,
            AssignmentStatus.SUBMITTED,
        ):
            person.leads += int(leads or 0)
    return sorted(people.values(), key=lambda w: (-w.active, w.name))


def _recommendation_figures(cycle: Cycle) -> dict[str, Figures]:
    """Responses and latest assessments of the cycle's recommendations by section and by state;
    two queries (sections; responses and latest assessments grouped by state and by section)."""
    sections = db.session.execute(
        select(
            FrameworkSection.id,
            FrameworkSection.number,
            FrameworkSection.title,
            FrameworkSection.code,
        )
        .where(FrameworkSection.framework_id == cycle.framework_id)
        .order_by(FrameworkSection.number)
    ).all()
    section_label = {sid: f"{number}. {title}" for sid, number, title, _code in sections}
    section_code = {f"{number}. {title}": code for _sid, number, title, code in sections}
    by = {
        "responses_by_section": Figures(RESPONSE_KEYS),
        "responses_by_state": Figures(RESPONSE_KEYS),
        "implementation_by_section": Figures(IMPLEMENTATION_KEYS),
        "implementation_by_state": Figures(IMPLEMENTATION_KEYS),
    }
    for label in section_label.values():  # every section appears, even without figures
        by["responses_by_section"].rows[label] = dict.fromkeys(RESPONSE_KEYS, 0)
        by["implementation_by_section"].rows[label] = dict.fromkeys(IMPLEMENTATION_KEYS, 0)
    by["responses_by_section"].section_of = section_code
    by["implementation_by_section"].section_of = section_code

    # the cycle's recommendations only, whatever the history (issue 20): the response is looked
    # up by its unique recommendation id (a join let PostgreSQL scan every cycle's responses)
    # and the latest assessment is the one kept on the recommendation (app/models/current.py)
    position = (
        select(type_coerce(Response.position, String))  # stored text: no enum conversion
        .where(Response.recommendation_id == Recommendation.id)
        .scalar_subquery()
    )
    recs = (
        select(
            Recommendation.id.label("id"),
            Recommendation.section_id.label("section_id"),
            Review.id.label("review_id"),
            State.name.label("state"),
            position.label("position"),
            Recommendation.latest_assessment_status.label("status"),
        )
        .join(Review, Review.id == Recommendation.review_id)
        .join(State, State.id == Review.state_id)
        .where(Review.cycle_id == cycle.id)
        .cte("recs")
    )
    count = func.count(recs.c.id).label("n")
    # grouped in SQL by state and by section: ~1 000 rows to fold for 193 reviews, not the
    # ~12 000 of a grouping by both; one statement, so the cycle's recommendations and their
    # responses are read once (the CTE, used twice, is materialised by both databases)
    by_state = select(
        literal("state").label("kind"),
        recs.c.state,
        recs.c.review_id,
        type_coerce(null(), Integer).label("section_id"),
        recs.c.position,
        recs.c.status,
        count,
    ).group_by(recs.c.state, recs.c.review_id, recs.c.position, recs.c.status)
    by_section = select(
        literal("section").label("kind"),
        type_coerce(null(), String).label("state"),
        type_coerce(null(), Integer).label("review_id"),
        recs.c.section_id,
        recs.c.position,
        recs.c.status,
        count,
    ).group_by(recs.c.section_id, recs.c.position, recs.c.status)
    both = union_all(by_state, by_section).subquery("figures")
    for kind, state, review_id, section_id, key, status, n in db.session.execute(
        select(both).order_by(both.c.kind.desc(), both.c.state)  # states first, by name
    ):
        if kind == "state":
            by["responses_by_state"].add(state, key or "none", n)
            by["responses_by_state"].review_of[state] = review_id
            by["implementation_by_state"].add(state, status or "not_assessed", n)
            by["implementation_by_state"].review_of[state] = review_id
        else:
            label = section_label.get(section_id, "?")
            by["responses_by_section"].add(label, key or "none", n)
            by["implementation_by_section"].add(label, status or "not_assessed", n)
    return by
