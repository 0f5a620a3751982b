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

    def organisation(
        self, role: Role, organisation: str, name: str | None = None, kind: str = "cso"
    ) -> User:
        """A partner or stakeholder account of ``organisation`` (issue 18)."""
        from app.models import StakeholderKind

        self._n += 1
        label = "partner" if role == Role.PARTNER else "sh"
        user = cycle_service.create_user(
            f"{label}{self._n}@org.example",
            name or f"{role.value} {self._n}",
            role,
            PASSWORD,
            organisation=organisation,
            stakeholder_kind=StakeholderKind(kind) if role == Role.STAKEHOLDER else None,
        )
        self.db.session.commit()
        return user

    def partner(self, organisation: str = "Nordic Development Agency") -> User:
        return self.organisation(Role.PARTNER, organisation)

    def stakeholder(self, organisation: str = "Haki Rights Watch", kind: str = "cso") -> User:
        return self.organisation(Role.STAKEHOLDER, organisation, kind=kind)

    def secretariat(self) -> User:
        return self.user(Role.SECRETARIAT)

    def focal_point(self, state_code: str) -> User:
        return self.user(Role.FOCAL_POINT, state_code)

    def reviewer(self, state_code: str) -> User:
        return self.user(Role.REVIEWER, state_code)

    def cycle(
        self,
        name: str = "2027 cycle",
        open_: bool = True,
        team_size: int = 2,
        time_zone: str = "UTC",
        starts_on: date = date(2027, 1, 1),
    ) -> Cycle:
        framework = reference.latest_framework()
        cycle = cycle_service.create_cycle(
            name, framework, starts_on, time_zone, team_size=team_size
        )
        if open_:
            cycle.status = CycleStatus.OPEN
        self.db.session.commit()
        return cycle

    def review(self, state_code: str = "KEN", cycle: Cycle | None = None) -> Review:
        cycle = cycle or self.cycle()
        review = cycle_service.add_review(cycle, self.state(state_code))
        self.db.session.commit()
        return review

    def assignment(
        self,
        review: Review,
        reviewer: User,
        *,
        lead: bool = False,
        status: AssignmentStatus = AssignmentStatus.INVITED,
        actor: User | None = None,
    ) -> Assignment:
        actor = (
            actor
            or self.db.session.scalar(select(User).where(User.role == Role.SECRETARIAT))
            or self.secretariat()
        )
        assignment = cycle_service.assign_reviewer(review, reviewer, actor, is_lead=lead)
        assignment.status = status
        self.db.session.commit()
        return assignment


def fill_required_answers(db, review: Review, user: User | None = None) -> None:
    """Answer every required question of the review's framework (test data)."""
    from app.models import Answer, AnswerType, Choice, FrameworkSection, Question

    questions = db.session.scalars(
        select(Question)
        .join(FrameworkSection)
        .where(FrameworkSection.framework_id == review.cycle.framework_id)
    ).all()
    existing = {
        a.question_id: a
        for a in db.session.scalars(select(Answer).where(Answer.review_id == review.id))
    }
    for q in questions:
        answer = existing.get(q.id) or Answer(review_id=review.id, question_id=q.id)
        if q.answer_type == AnswerType.CAPACITY_LEVEL:
            answer.level = 2
        elif q.answer_type == AnswerType.YES_NO_PARTIAL:
            answer.choice = answer.choice or Choice.PARTIAL
        answer.narrative = answer.narrative or f"Narrative for {q.code}."
        answer.updated_by_id = user.id if user else None
        db.session.add(answer)
    db.session.commit()


class Prepared:
    """A review with everything every Review guard needs, and one actor per identity."""

    def __init__(self, review, secretariat, focal_point, other_focal_point, lead, member, outsider):
        self.review = review
        self.identities = {
            "secretariat": secretariat,
            "focal_point": focal_point,
            "other_focal_point": other_focal_point,
            "lead_reviewer": lead,
            "member_reviewer": member,
            "unassigned_reviewer": outsider,
        }


def prepared_review(make: Factories, state_code: str = "KEN") -> Prepared:
    """Kenya's review with: all required answers; a 2-person team (lead from Brazil, member from
    Poland) whose evaluations are submitted; a report with every section rated, one
    recommendation with a complete response and an assessment, and one factual comment."""
    from app.models import (
        Addressee,
        Assessment,
        AssessmentStatus,
        Evaluation,
        EvaluationSection,
        FactualComment,
        Priority,
        Recommendation,
        Report,
        ReportSection,
        Response,
        ResponsePosition,
        TransitionLog,
        utcnow,
    )

    db = make.db
    secretariat = make.secretariat()
    review = make.review(state_code)
    fp = make.focal_point(state_code)
    other_fp = make.focal_point("GHA")
    lead = make.reviewer("BRA")
    member = make.reviewer("POL")
    outsider = make.reviewer("NOR")
    fill_required_answers(db, review, fp)
    sections = review.cycle.framework.sections
    for reviewer, is_lead in ((lead, True), (member, False)):
        a = make.assignment(
            review, reviewer, lead=is_lead, status=AssignmentStatus.SUBMITTED, actor=secretariat
        )
        evaluation = Evaluation(assignment_id=a.id, summary="Summary")
        db.session.add(evaluation)
        db.session.flush()
        for s in sections:
            db.session.add(
                EvaluationSection(
                    evaluation_id=evaluation.id, section_id=s.id, rating=2, findings="Findings"
                )
            )
    report = Report(review_id=review.id, executive_summary="Executive summary")
    db.session.add(report)
    db.session.flush()
    for s in sections:
        db.session.add(
            ReportSection(
                report_id=report.id,
                section_id=s.id,
                consensus_rating=2,
                findings=f"Findings {s.code}",
            )
        )
    rec = Recommendation(
        review_id=review.id,
        section_id=sections[1].id,
        text="Establish an independent police complaints authority.",
        priority=Priority.HIGH,
        action_category=5,
        addressee=Addressee.STATE,
    )
    db.session.add(rec)
    db.session.flush()
    db.session.add(
        Response(
            recommendation_id=rec.id,
            position=ResponsePosition.SUPPORTED,
            explanation="Agreed.",
            planned_action="Draft the bill.",
            responsible_institution="Ministry of Interior",
            target_date=date(2028, 6, 30),
        )
    )
    db.session.add(
        Assessment(
            recommendation_id=rec.id,
            status=AssessmentStatus.IMPLEMENTED,
            note="Done",
            author_id=secretariat.id,
        )
    )
    db.session.add(FactualComment(report_id=report.id, author_id=fp.id, body="A correction."))
    for event, actor in (("submit_draft_report", lead), ("submit_factual_comments", fp)):
        db.session.add(
            TransitionLog(
                subject_type="review",
                subject_id=review.id,
                event=event,
                from_state="evaluation" if event == "submit_draft_report" else "factual_check",
                to_state="factual_check",
                actor_id=actor.id,
                created_at=utcnow(),
            )
        )
    db.session.commit()
    return Prepared(review, secretariat, fp, other_fp, lead, member, outsider)
