"""Factories that build realistic objects through the same services the application uses."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Assignment, Cycle, Review, Role, State, User
from app.services import cycles as cycle_service
from app.services import reference
from workflows import AssignmentStatus, CycleStatus

PASSWORD = "correct-horse-battery"


class Factories:
    def __init__(self, db):
        self.db = db
        self._n = 0

    def state(self, code: str) -> State:
        return self.db.session.scalar(select(State).where(State.code == code))

    def user(self, role: Role, state_code: str | None = None, name: str | None = None) -> User:
        self._n += 1
        state = self.state(state_code) if state_code else None
        label = {Role.SECRETARIAT: "sec", Role.FOCAL_POINT: "fp", Role.REVIEWER: "rev"}[role]
        user = cycle_service.create_user(
            f"{label}{self._n}.{(state_code or 'x').lower()}@test.example",
            name or f"{role.value} {self._n} {state_code or ''}".strip(),
            role,
            PASSWORD,
            state,
        )
        self.db.session.commit()
        return user

    def secretariat(self) -> User:
        return self.user(Role.SECRETARIAT)

    def focal_point(self, state_code: str) -> User:
        return self.user(Role.FOCAL_POINT, state_code)

    def reviewer(self, state_code: str) -> User:
        return self.user(Role.REVIEWER, state_code)

    def cycle(self, name: str = "2027 cycle", open_: bool = True, team_size: int = 2,
              time_zone: str = "UTC", starts_on: date = date(2027, 1, 1)) -> Cycle:
        framework = reference.latest_framework()
        cycle = cycle_service.create_cycle(name, framework, starts_on, time_zone,
                                           team_size=team_size)
        if open_:
            cycle.status = CycleStatus.OPEN
        self.db.session.commit()
        return cycle

    def review(self, state_code: str = "KEN", cycle: Cycle | None = None) -> Review:
        cycle = cycle or self.cycle()
        review = cycle_service.add_review(cycle, self.state(state_code))
        self.db.session.commit()
        return review

    def assignment(self, review: Review, reviewer: User, *, lead: bool = False,
                   status: AssignmentStatus = AssignmentStatus.INVITED,
                   actor: User | None = None) -> Assignment:
        actor = actor or self.db.session.scalar(
            select(User).where(User.role == Role.SECRETARIAT)
        ) or self.secretariat()
        assignment = cycle_service.assign_reviewer(review, reviewer, actor, is_lead=lead)
        assignment.status = status
        self.db.session.commit()
        return assignment
