"""A whole review cycle of Pillars driven through HTTP only, as the three roles (DESIGN §4, §5).

One secretariat account is made by the factory; everything else (accounts, the cycle, Kenya's
review, the review team) is created through the secretariat's screens. Kenya's focal point fills
the self-assessment, reviewers from Brazil (lead) and Poland evaluate it, the lead drafts the
report, the state comments and answers, the secretariat follows up and closes the review. Each
person uses their own test client; the database is read only to check what the screens did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import (
    Answer,
    Assessment,
    Assignment,
    Cycle,
    Evaluation,
    FactualComment,
    Framework,
    FrameworkSection,
    ProgressUpdate,
    Question,
    Recommendation,
    Report,
    ReportSection,
    Review,
    State,
    TransitionLog,
    User,
)
from tests.factories import PASSWORD
from workflows import AssignmentStatus, CycleStatus, ReviewStatus

R = ReviewStatus
A = AssignmentStatus

#: The review's events in the order the cycle below fires them.
EXPECTED_EVENTS = [
    "submit_self_assessment",
    "return_self_assessment",
    "submit_self_assessment",
    "accept_self_assessment",
    "start_evaluation",
    "submit_draft_report",
    "submit_factual_comments",
    "adopt_report",
    "submit_response",
    "escalate",
    "deescalate",
    "close_review",
]


# --- small helpers -----------------------------------------------------------------------------


def get(client, url: str, status: int = 200) -> str:
    """GET ``url``; assert the status; return the page text."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def post(client, url: str, status: int = 302, **data) -> str:
    """POST ``data`` to ``url``; assert the status; return the page text (or the redirect)."""
    response = client.post(url, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == status, (url, response.status_code, body[:2000])
    return response.headers.get("Location", "") if status == 302 else body


def fire(client, review_id: int, event: str, expected: str, status: int = 302, reason=""):
    """Post a review event button as the review page does (``expected_status`` and a reason)."""
    return post(
        client,
        f"/reviews/{review_id}/events/{event}",
        status,
        expected_status=expected,
        reason=reason,
    )


@dataclass
class World:
    """The people, their browsers and the ids the scenario creates, read back from the DB."""

    app: object
    db: object
    login_as: object
    frozen_now: object
    clients: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    instant: datetime = datetime(2027, 1, 5, 6, 0, tzinfo=UTC)
    cycle_id: int = 0
    review_id: int = 0
    assignments: dict = field(default_factory=dict)
    sections: list = field(default_factory=list)

    def browser(self, who: str):
        """The signed-in test client of ``who`` (one per person, created on first use)."""
        if who not in self.clients:
            client = self.app.test_client()
            self.login_as(self.users[who], on=client)
            self.clients[who] = client
        return self.clients[who]

    def later(self, **delta) -> datetime:
        """Move the frozen application clock forward (history entries get distinct times)."""
        self.instant += timedelta(**delta)
        return self.frozen_now(self.instant)

    def read(self, query):
        """Rows of ``query`` as they are now in the database (after other sessions' commits)."""
        self.db.session.expire_all()
        return self.db.session.scalars(query).all()

    def one(self, query):
        self.db.session.expire_all()
        return self.db.session.scalar(query)

    def review(self) -> Review:
        return self.one(select(Review).where(Review.id == self.review_id))

    def state_id(self, code: str) -> int:
        return self.one(select(State.id).where(State.code == code))

    @property
    def r(self) -> str:
        return f"/reviews/{self.review_id}"


def answer_fields(section: FrameworkSection) -> dict:
    """The section form as a focal point fills it: every question by its answer type, with
    narrative and evidence, plus capacity gaps and assistance sought."""
    data = {}
    for i, q in enumerate(section.questions):
        if q.answer_type == "capacity_level":
            data[f"{q.code}-level"] = str((section.number + i) % 5)
        elif q.answer_type == "yes_no_partial":
            data[f"{q.code}-choice"] = ["yes", "partial", "no"][i % 3]
        data[f"{q.code}-narrative"] = f"Kenya on {q.code}: what exists and how it works."
        data[f"{q.code}-evidence"] = f"National report {q.code} (2026)\nGazette notice {i + 1}"
    data["capacity_gaps"] = f"Gaps in section {section.number}: county-level capacity."
    data["assistance_sought"] = ["rule_of_law", "civil_society"] if section.number % 2 else []
    data["assistance_details"] = "Training of county officials." if section.number % 2 else ""
    data["save_next"] = "Save and next section"
    return data


def evaluation_fields(sections, who: str, rating: int, action: str, proposal=None) -> dict:
    """The evaluation form with every section rated; ``proposal`` = (section, text, category)."""
    data = {"expected_status": "accepted", "summary": f"Overall view of {who}.", "action": action}
    for s in sections:
        data[f"rating_{s.id}"] = str(rating)
        data[f"findings_{s.id}"] = f"{who} finds on {s.code}: institutions exist, uneven reach."
        data[f"good_practices_{s.id}"] = f"{who} notes a good practice on {s.code}."
    section, text, category = proposal or (None, "", 4)
    data.update(
        new_section=str(section.id) if section else "", new_text=text, new_category=str(category)
    )
    return data


# --- the scenario ------------------------------------------------------------------------------


def test_full_review_cycle_through_the_screens(app, db, make, login_as, frozen_now):
    world = World(app=app, db=db, login_as=login_as, frozen_now=frozen_now)
    world.frozen_now(world.instant)
    world.users["secretariat"] = make.secretariat()

    setup_cycle_and_team(world)
    fill_and_submit_self_assessment(world)
    screen_self_assessment(world)
    reviewers_answer_invitations(world)
    reviewers_file_evaluations(world)
    lead_drafts_report(world)
    state_checks_facts(world)
    state_responds(world)
    follow_up_until_closed(world)
    everyone_was_told(world)


def setup_cycle_and_team(world: World) -> None:
    """Step 1: the secretariat creates accounts, the cycle, Kenya's review and the team."""
    sec = world.browser("secretariat")
    people = {
        "fp_ken": ("wanjiru.kamau@ken.example", "Wanjiru Kamau", "focal_point", "KEN"),
        "rev_bra": ("ana.souza@bra.example", "Ana Luíza Souza", "reviewer", "BRA"),
        "rev_pol": ("zofia.wisniewska@pol.example", "Zofia Wiśniewska", "reviewer", "POL"),
        "fp_gha": ("kwame.mensah@gha.example", "Kwame Mensah", "focal_point", "GHA"),
        "rev_ken": ("otieno.odhiambo@ken.example", "Otieno Odhiambo", "reviewer", "KEN"),
    }
    for key, (email, name, role, code) in people.items():
        post(
            sec,
            "/admin/users/new",
            email=email,
            display_name=name,
            role=role,
            state=str(world.state_id(code)),
            password=PASSWORD,
        )
        world.users[key] = world.one(select(User).where(User.email == email))
        assert world.users[key].state_id == world.state_id(code)
    listing = get(sec, "/admin/users")
    assert all(name in listing for _e, name, _r, _c in people.values())

    framework_id = world.one(select(Framework.id).order_by(Framework.version.desc()))
    location = post(
        sec,
        "/admin/cycles/new",
        name="2027 cycle",
        framework=str(framework_id),
        starts_on="2027-01-04",
        time_zone="Africa/Nairobi",
        self_assessment_days="60",
        evaluation_days="60",
        factual_check_days="21",
        response_days="30",
        follow_up_days="180",
        team_size="2",
    )
    cycle = world.one(select(Cycle).where(Cycle.name == "2027 cycle"))
    assert location.endswith(f"/admin/cycles/{cycle.id}")
    assert (cycle.time_zone, cycle.team_size, cycle.status) == (
        "Africa/Nairobi",
        2,
        CycleStatus.PLANNING,
    )
    world.cycle_id = cycle.id

    post(sec, f"/admin/cycles/{cycle.id}/states", states=[str(world.state_id("KEN"))])
    review = world.one(select(Review).where(Review.cycle_id == cycle.id))
    assert review.state.code == "KEN" and review.status == R.SELF_ASSESSMENT
    world.review_id = review.id
    world.sections = world.read(
        select(FrameworkSection)
        .where(FrameworkSection.framework_id == framework_id)
        .options(selectinload(FrameworkSection.questions))
        .order_by(FrameworkSection.number)
    )
    assert len(world.sections) == 11

    post(sec, f"/admin/cycles/{cycle.id}/events/open_cycle", expected_status="planning")
    assert world.one(select(Cycle.status).where(Cycle.id == cycle.id)) == CycleStatus.OPEN
    page = get(sec, f"/admin/cycles/{cycle.id}")
    assert "Kenya" in page and '<span class="badge text-bg-success">Open</span>' in page

    team_url = f"/admin/reviews/{review.id}/team"
    refused = post(
        sec,
        team_url,
        422,
        reviewer=str(world.users["rev_ken"].id),
        justification="Regional expertise.",
    )
    assert "Otieno Odhiambo is a national of Kenya" in refused
    assert "a reviewer never reviews their own state" in refused
    post(
        sec,
        team_url,
        reviewer=str(world.users["rev_bra"].id),
        is_lead="y",
        justification="Led the 2025 pilot review; Portuguese and English.",
    )
    post(
        sec,
        team_url,
        reviewer=str(world.users["rev_pol"].id),
        justification="Expert on security-sector oversight, Eastern European Group.",
    )
    team = world.read(
        select(Assignment).where(Assignment.review_id == review.id).order_by(Assignment.id)
    )
    assert [(a.reviewer_id, a.is_lead, a.status) for a in team] == [
        (world.users["rev_bra"].id, True, A.INVITED),
        (world.users["rev_pol"].id, False, A.INVITED),
    ]
    world.assignments = {"rev_bra": team[0].id, "rev_pol": team[1].id}
    page = get(sec, team_url)
    assert "Led the 2025 pilot review" in page and "0 of 2 reviewers have accepted." in page

    # a focal point has no business in the administration screens
    get(world.browser("fp_ken"), "/admin/cycles", 403)


def fill_and_submit_self_assessment(world: World) -> None:
    """Step 2: Kenya's focal point answers all 11 sections, is refused with one missing, submits."""
    fp = world.browser("fp_ken")
    home = get(fp, "/home")
    assert "Complete and submit the self-assessment" in home and "Kenya" in home

    *first_ten, last = world.sections
    for section in first_ten:
        location = post(fp, f"{world.r}/self-assessment/{section.number}", **answer_fields(section))
        assert location.endswith(f"/self-assessment/{section.number + 1}")

    world.later(days=20)
    refused = fire(fp, world.review_id, "submit_self_assessment", "self_assessment", 422)
    missing = [q.code for q in last.questions if q.required]
    assert missing == ["MEL-1", "MEL-2", "MEL-3", "MEL-4"]
    assert f"{len(missing)} required questions are not answered yet: {', '.join(missing)}." in (
        refused
    )
    assert world.review().status == R.SELF_ASSESSMENT

    location = post(fp, f"{world.r}/self-assessment/{last.number}", **answer_fields(last))
    assert location.endswith("/self-assessment")
    answers = world.read(select(Answer).where(Answer.review_id == world.review_id))
    kinds = dict(world.db.session.execute(select(Question.id, Question.answer_type)).all())
    assert len(answers) == sum(len(s.questions) for s in world.sections)
    assert all(a.is_given(kinds[a.question_id]) and a.evidence for a in answers)
    assert not any(a.prefilled for a in answers)

    assert "editable" in get(fp, world.r)
    fire(fp, world.review_id, "submit_self_assessment", "self_assessment")
    assert world.review().status == R.SCREENING
    # after submission a changed answer is refused, the typed text shown back, nothing stored
    changed = answer_fields(world.sections[2])
    code = world.sections[2].questions[0].code
    changed[f"{code}-narrative"] = "A late change after submission."
    refused_edit = fp.post(f"{world.r}/self-assessment/3", data=changed)
    assert refused_edit.status_code == 409
    assert "A late change after submission." in refused_edit.get_data(as_text=True)
    stored = world.read(
        select(Answer)
        .join(Question)
        .where(Answer.review_id == world.review_id, Question.code == code)
    )
    assert all(a.narrative != "A late change after submission." for a in stored)
    assert "editable" not in get(fp, world.r)


def screen_self_assessment(world: World) -> None:
    """Step 3: the secretariat returns it once with a reason; resubmitted; accepted."""
    sec, fp = world.browser("secretariat"), world.browser("fp_ken")
    assert "Screen the submitted self-assessment" in get(sec, "/home")

    refused = fire(sec, world.review_id, "return_self_assessment", "screening", 422, reason=" ")
    assert "Not done." in refused
    assert world.review().status == R.SCREENING

    world.later(days=3)
    reason = "Please add the 2026 budget law as evidence for ECO-2."
    fire(sec, world.review_id, "return_self_assessment", "screening", reason=reason)
    assert world.review().status == R.SELF_ASSESSMENT
    page = get(fp, world.r)
    assert reason in page and "Self-assessment" in page
    assert "Revise and resubmit the self-assessment (returned by the secretariat)" in get(
        fp, "/home"
    )

    economy = world.sections[4]
    fields = answer_fields(economy)
    fields["ECO-2-evidence"] = "Budget law 2026 (Finance Act), Kenya Gazette Supplement 112"
    post(fp, f"{world.r}/self-assessment/{economy.number}", **fields)
    world.later(days=2)
    fire(fp, world.review_id, "submit_self_assessment", "self_assessment")
    assert world.review().status == R.SCREENING

    world.later(days=1)
    fire(sec, world.review_id, "accept_self_assessment", "screening")
    assert world.review().status == R.PEER_ASSIGNMENT


def reviewers_answer_invitations(world: World) -> None:
    """Step 4: the invited Polish reviewer sees only the invitation; both accept; evaluation."""
    pol, bra, sec = (world.browser(k) for k in ("rev_pol", "rev_bra", "secretariat"))
    pol_a = world.assignments["rev_pol"]

    assert "Answer the invitation to review" in get(pol, "/home")
    invitation = get(pol, f"/assignments/{pol_a}")
    assert "Invitation to review Kenya" in invitation
    get(pol, f"{world.r}/self-assessment", 404)
    get(pol, f"{world.r}/self-assessment/2", 404)
    get(pol, f"{world.r}/report", 404)

    refused = post(pol, f"/assignments/{pol_a}/events/accept", 422, expected_status="invited")
    assert "To accept, please declare that you have no conflict of interest." in refused
    assert world.one(select(Assignment.status).where(Assignment.id == pol_a)) == A.INVITED

    world.later(days=1)
    post(pol, f"/assignments/{pol_a}/events/accept", expected_status="invited", no_conflict="y")
    accepted = world.one(select(Assignment).where(Assignment.id == pol_a))
    assert accepted.status == A.ACCEPTED and accepted.no_conflict_declared_at == world.instant
    assert "Kenya on SEC-1" in get(pol, f"{world.r}/self-assessment")

    refused = fire(sec, world.review_id, "start_evaluation", "peer_assignment", 422)
    assert "The team is not complete: 1 of 2 reviewers have accepted." in refused

    post(
        bra,
        f"/assignments/{world.assignments['rev_bra']}/events/accept",
        expected_status="invited",
        no_conflict="y",
    )
    world.later(days=1)
    fire(sec, world.review_id, "start_evaluation", "peer_assignment")
    assert world.review().status == R.EVALUATION
    assert "File your evaluation" in get(pol, "/home")


def reviewers_file_evaluations(world: World) -> None:
    """Step 5: each reviewer files and submits an evaluation; co-reviewers' stay hidden until
    one's own is submitted (the lead sees the others' once submitted)."""
    pol, bra, fp = (world.browser(k) for k in ("rev_pol", "rev_bra", "fp_ken"))
    pol_a, bra_a = world.assignments["rev_pol"], world.assignments["rev_bra"]
    sections = world.sections
    security, justice, assistance = sections[1], sections[3], sections[9]

    polish_draft = evaluation_fields(sections, "Poland", 2, "save")
    post(pol, f"/assignments/{pol_a}/evaluation", **polish_draft)
    draft_seen_by_lead = get(bra, f"/assignments/{pol_a}/evaluation/view")
    assert "This evaluation has not been submitted yet." in draft_seen_by_lead
    assert "Poland finds on" not in draft_seen_by_lead

    proposal = (security, "Create an independent police oversight inspectorate.", 5)
    post(
        bra,
        f"/assignments/{bra_a}/evaluation",
        **evaluation_fields(sections, "Brazil", 3, "add_proposal", proposal),
    )
    world.later(days=10)
    brazilian = evaluation_fields(sections, "Brazil", 3, "submit")
    location = post(bra, f"/assignments/{bra_a}/evaluation", **brazilian)
    assert location.endswith(f"/assignments/{bra_a}/evaluation/view")
    assert world.one(select(Assignment.status).where(Assignment.id == bra_a)) == A.SUBMITTED

    get(pol, f"/assignments/{bra_a}/evaluation/view", 404)
    get(pol, f"/assignments/{bra_a}/evaluation", 404)
    get(fp, f"/assignments/{bra_a}/evaluation/view", 404)
    get(fp, f"{world.r}/report", 404)

    world.later(days=2)
    proposal = (justice, "Publish the judicial budget by court, yearly.", 4)
    post(
        pol,
        f"/assignments/{pol_a}/evaluation",
        **evaluation_fields(sections, "Poland", 2, "submit", proposal),
    )
    assert world.one(select(Assignment.status).where(Assignment.id == pol_a)) == A.SUBMITTED
    assert "Brazil finds on SEC" in get(pol, f"/assignments/{bra_a}/evaluation/view")
    seen_by_lead = get(bra, f"/assignments/{pol_a}/evaluation/view")
    assert "Poland finds on JUS" in seen_by_lead
    assert "Publish the judicial budget by court, yearly." in seen_by_lead
    get(fp, f"/assignments/{pol_a}/evaluation/view", 404)

    evaluations = world.read(select(Evaluation).options(selectinload(Evaluation.proposals)))
    assert len(evaluations) == 2 and all(e.submitted_at is not None for e in evaluations)
    assert all(len(e.sections) == 11 and len(e.proposals) == 1 for e in evaluations)
    assert assistance.id in {row.section_id for row in evaluations[0].sections}


def lead_drafts_report(world: World) -> None:
    """Step 6: the lead consolidates the report, imports the proposals, adds a recommendation to
    international partners, and submits the draft; the state sees it from factual_check on."""
    bra, pol, fp = (world.browser(k) for k in ("rev_bra", "rev_pol", "fp_ken"))
    sections = world.sections

    assert "Consolidate the draft report (lead reviewer)" in get(bra, "/home")
    get(pol, f"{world.r}/report/edit", 403)
    draft = {"executive_summary": "Kenya has strong institutions with uneven county reach."}
    for s in sections:
        draft[f"consensus_{s.id}"] = str(s.number % 4)
        draft[f"findings_{s.id}"] = f"The team finds on {s.code}: solid law, thin practice."
        draft[f"good_practices_{s.id}"] = f"Good practice on {s.code}: peace committees."
    post(bra, f"{world.r}/report/edit", **draft)

    post(bra, f"{world.r}/report/import")
    post(bra, f"{world.r}/report/import")  # importing twice adds nothing
    imported = world.read(select(Recommendation).where(Recommendation.review_id == world.review_id))
    assert sorted(r.action_category for r in imported) == [4, 5]
    assert all(r.proposal_id is not None for r in imported)

    post(
        bra,
        f"{world.r}/report/recommendations",
        section_id=str(sections[9].id),
        text="Fund the national early-warning centre for three years.",
        priority="high",
        action_category="5",
        addressee="international_partners",
        target_date="2028-06-30",
    )
    by_hand = world.one(select(Recommendation).where(Recommendation.proposal_id.is_(None)))
    assert (by_hand.action_category, by_hand.addressee.value, by_hand.section_id) == (
        5,
        "international_partners",
        sections[9].id,
    )

    world.later(days=5)
    fire(bra, world.review_id, "submit_draft_report", "evaluation")
    assert world.review().status == R.FACTUAL_CHECK
    assert world.one(select(Report.submitted_at)) == world.instant

    report = get(fp, f"{world.r}/report")
    assert "Kenya has strong institutions with uneven county reach." in report
    assert "The team finds on JUS: solid law, thin practice." in report
    assert "Fund the national early-warning centre for three years." in report
    assert "Check the draft report for factual accuracy" in get(fp, "/home")


def state_checks_facts(world: World) -> None:
    """Step 7: a factual-accuracy comment beside (never in) the findings; outsiders see nothing."""
    fp, sec, gha = (world.browser(k) for k in ("fp_ken", "secretariat", "fp_gha"))
    justice = world.sections[3]
    findings_before = world.one(
        select(ReportSection.findings).where(ReportSection.section_id == justice.id)
    )

    comment = "The Judicial Service Commission was reconstituted in 2026, not 2024."
    world.later(days=4)
    post(fp, f"{world.r}/report/comments", section_id=str(justice.id), body=comment)
    fire(fp, world.review_id, "submit_factual_comments", "factual_check")
    assert world.review().status == R.FACTUAL_CHECK
    stored = world.one(select(FactualComment))
    assert (stored.section_id, stored.body, stored.author_id) == (
        justice.id,
        comment,
        world.users["fp_ken"].id,
    )
    assert (
        world.one(select(ReportSection.findings).where(ReportSection.section_id == justice.id))
        == findings_before
    )
    for viewer in (fp, sec):
        assert comment in get(viewer, f"{world.r}/report")

    for url in (
        world.r,
        f"{world.r}/self-assessment",
        f"{world.r}/self-assessment/1",
        f"{world.r}/report",
        f"{world.r}/response",
        f"{world.r}/follow-up",
    ):
        get(gha, url, 404)
    fire(gha, world.review_id, "submit_factual_comments", "factual_check", 404)
    assert "Kenya" not in get(gha, "/home")


def state_responds(world: World) -> None:
    """Step 8: the report is adopted; the state saves a partial response, is refused, submits."""
    sec, fp = world.browser("secretariat"), world.browser("fp_ken")
    world.later(days=3)
    fire(sec, world.review_id, "adopt_report", "factual_check")
    assert world.review().status == R.RESPONSE
    assert world.one(select(Report.adopted_at)) == world.instant
    assert "Answer each recommendation" in get(fp, "/home")

    recommendations = world.read(
        select(Recommendation)
        .where(Recommendation.review_id == world.review_id)
        .order_by(Recommendation.id)
    )
    assert len(recommendations) == 3
    answers = {}
    for rec, position in zip(recommendations, ["supported", "supported", "noted"], strict=True):
        supported = position == "supported"
        prefix = f"r{rec.id}-"
        answers[rec.id] = {
            prefix + "position": position,
            prefix + "explanation": f"The state {position} this recommendation.",
            prefix + "planned_action": "Draft a bill by mid-2027." if supported else "",
            prefix + "responsible_institution": "Office of the Attorney-General",
            prefix + "target_date": "2028-12-31" if supported else "",
        }
    partial = {k: v for rec_id, fields in list(answers.items())[:2] for k, v in fields.items()}
    url = f"{world.r}/response"
    assert "Answer every recommendation" in get(fp, url)
    post(fp, url, expected_status="response", save="Save", **partial)
    refused = post(
        fp, url, 422, expected_status="response", submit="Save and submit the response", **partial
    )
    assert "1 recommendation has no response yet." in refused
    assert world.review().status == R.RESPONSE

    everything = {k: v for fields in answers.values() for k, v in fields.items()}
    world.later(days=7)
    post(fp, url, expected_status="response", submit="Save and submit the response", **everything)
    assert world.review().status == R.FOLLOW_UP
    stored = world.read(select(Recommendation).order_by(Recommendation.id))
    assert [r.response.position.value for r in stored] == ["supported", "supported", "noted"]
    assert stored[0].response.planned_action == "Draft a bill by mid-2027."
    assert stored[2].response.explanation == "The state noted this recommendation."


def follow_up_until_closed(world: World) -> None:
    """Step 9: progress updates, escalation and back, assessments, and the closed review."""
    sec, fp = world.browser("secretariat"), world.browser("fp_ken")
    recommendations = world.read(select(Recommendation).order_by(Recommendation.id))

    assert "Report progress on the recommendations" in get(fp, "/home")
    world.later(days=30)
    progress = ["in_progress", "completed", "not_started"]
    for rec, status in zip(recommendations, progress, strict=True):
        post(
            fp,
            f"{world.r}/follow-up/{rec.id}/progress",
            **{f"p{rec.id}-status": status, f"p{rec.id}-narrative": f"Progress on {rec.id}."},
        )
    assert len(world.read(select(ProgressUpdate))) == 3

    escalation = "No progress report on the early-warning centre after six months."
    world.later(days=60)
    fire(sec, world.review_id, "escalate", "follow_up", reason=escalation)
    assert world.review().status == R.ENHANCED_FOLLOW_UP
    world.later(days=30)
    fire(sec, world.review_id, "deescalate", "enhanced_follow_up", reason="Funding secured.")
    assert world.review().status == R.FOLLOW_UP

    refused = fire(sec, world.review_id, "close_review", "follow_up", 422)
    assert "3 recommendations have no implementation assessment yet." in refused
    assert world.review().status == R.FOLLOW_UP

    for rec, status in zip(
        recommendations, ["partially_implemented", "implemented", "not_implemented"], strict=True
    ):
        post(
            sec,
            f"{world.r}/follow-up/{rec.id}/assessment",
            **{f"a{rec.id}-status": status, f"a{rec.id}-note": "Checked against the gazette."},
        )
    assert len(world.read(select(Assessment))) == 3
    world.later(days=1)
    fire(sec, world.review_id, "close_review", "follow_up")
    assert world.review().status == R.CLOSED

    log = world.read(
        select(TransitionLog)
        .where(TransitionLog.subject_type == "review", TransitionLog.subject_id == world.review_id)
        .order_by(TransitionLog.created_at, TransitionLog.id)
    )
    assert [row.event for row in log] == EXPECTED_EVENTS
    assert log[1].reason == "Please add the 2026 budget law as evidence for ECO-2."
    assert log[-1].to_state == "closed" and log[-1].actor_id == world.users["secretariat"].id

    page = get(fp, world.r)
    assert "History" in page and '<span class="badge text-bg-dark">Closed</span>' in page
    assert escalation in page and "Funding secured." in page
    assert "Return to the state" in page  # the timeline names each event
    local = world.instant + timedelta(hours=3)  # UTC+3
    nairobi = f"{local.day} {local:%b %Y, %H:%M}"  # Babel's en_GB medium date, 24-hour time
    assert f"{nairobi} (Africa/Nairobi)" in page
    assert "Nothing is waiting for you." in get(fp, "/home")
    everyone_still_sees_their_pages(world)


def everyone_still_sees_their_pages(world: World) -> None:
    """After closing, each person's pages of the review still load; the outsider's do not."""
    r, bra_a, pol_a = world.r, world.assignments["rev_bra"], world.assignments["rev_pol"]
    shared = [r, f"{r}/self-assessment", f"{r}/self-assessment/4", f"{r}/report"]
    state = [f"{r}/response", f"{r}/follow-up"]
    pages = {
        "secretariat": [*shared, *state, f"/admin/reviews/{world.review_id}/team"],
        "fp_ken": [*shared, *state],
        "rev_bra": [*shared, f"/assignments/{bra_a}", f"/assignments/{pol_a}/evaluation/view"],
        "rev_pol": [*shared, f"/assignments/{pol_a}", f"/assignments/{bra_a}/evaluation/view"],
    }
    for who, urls in pages.items():
        for url in urls:
            get(world.browser(who), url)
    for url in [*shared, *state, f"/assignments/{pol_a}/evaluation/view"]:
        get(world.browser("fp_gha"), url, 404)
    follow_up = get(world.browser("fp_ken"), f"{r}/follow-up")
    assert "Checked against the gazette." in follow_up and "Progress on" in follow_up


#: Who heard what, in order, as the cycle above moved (issue 6; notification_rules.RULES).
EXPECTED_MESSAGES = [
    ("invitation", "rev_bra"),
    ("invitation", "rev_pol"),
    ("self_assessment_submitted", "secretariat"),
    ("self_assessment_returned", "fp_ken"),
    ("self_assessment_submitted", "secretariat"),
    ("team_complete", "secretariat"),
    ("evaluation_started", "rev_bra"),
    ("evaluation_started", "rev_pol"),
    ("evaluations_in", "rev_bra"),
    ("evaluations_in", "secretariat"),
    ("factual_check", "fp_ken"),
    ("report_adopted", "rev_bra"),
    ("report_adopted", "rev_pol"),
    ("response_due", "fp_ken"),
    ("progress_report_due", "fp_ken"),
    ("escalation", "fp_ken"),
    ("escalation", "secretariat"),
    # the round of enhanced follow-up ends with the secretariat's decision (issue 17)
    ("back_to_regular_follow_up", "fp_ken"),
    ("back_to_regular_follow_up", "secretariat"),
]


def everyone_was_told(world: World) -> None:
    """The outbox followed the cycle: each step told the people `RULES` names, with deadlines
    in the cycle's zone; the state's messages never name a reviewer (DESIGN §5)."""
    from app.models import Notification

    key_of = {user.id: key for key, user in world.users.items()}
    notes = world.read(select(Notification).order_by(Notification.id))
    got = [(n.kind, key_of[n.recipient_id]) for n in notes]
    assert got == EXPECTED_MESSAGES, got
    assert all(n.status == "sent" for n in notes)
    reviewers = ("Ana Luíza Souza", "Zofia Wiśniewska", "Brazil", "Poland", "Souza")
    for note in notes:
        if key_of[note.recipient_id] == "fp_ken":
            for name in reviewers:
                assert name not in note.body_text + note.body_html + note.subject, note.kind
    returned = next(n for n in notes if n.kind == "self_assessment_returned")
    assert "Please add the 2026 budget law as evidence for ECO-2." in returned.body_text
    due = next(n for n in notes if n.kind == "response_due")
    assert "(Africa/Nairobi)" in due.body_text and "response is due by" in due.body_text
    invitation = next(n for n in notes if n.kind == "invitation")
    assert "Kenya" in invitation.subject and "(Africa/Nairobi)" in invitation.body_text
    inbox = get(world.browser("fp_ken"), "/notifications")
    assert due.subject in inbox and "invitation" not in inbox.lower()
