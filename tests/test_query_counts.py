"""Every key page runs the same number of SQL queries, at most 15, for 10 states or 193 (issue 9).

Two databases are built once for this module with the benchmark data set (`bench seed`): a small
one of 10 states (one review in each status) and a full-size one of all 193 UN member states,
both with two cycles (the latest open with reviews in every phase) and a few recommendations per
report. Each page is requested in both as the same kind of person looking at the same kind of
object (the latest cycle's first review in follow-up, in response, in evaluation…), and its
queries are counted (`tests.test_dashboard.QueryCounter`).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db as _db
from app.models import Assignment, ConsentLevel, Cycle, PublicationConsent, Review, State, User
from bench import data as bench_data
from tests.conftest import FreshContextClient, _make_config
from tests.test_dashboard import QueryCounter
from workflows import ReviewStatus

MAX_QUERIES = 15
SIZES = {"small": 10, "full": 193}

#: (who, URL template): the page as each person sees it; {names} are ids found in each database.
PAGES = [
    # the secretariat
    ("secretariat", "/home"),
    ("secretariat", "/admin/cycles"),
    ("secretariat", "/admin/cycles/{cycle}"),
    ("secretariat", "/admin/cycles/{cycle}/dashboard"),
    ("secretariat", "/admin/cycles/{cycle}/draws"),
    ("secretariat", "/admin/cycles/{cycle}/pool"),
    ("secretariat", "/admin/cycles/{cycle}/upr-import"),
    ("secretariat", "/admin/users"),
    ("secretariat", "/admin/users/{focal_point_id}/edit"),
    ("secretariat", "/admin/reviews/{evaluation}/team"),
    ("secretariat", "/reviews/{follow_up}"),
    ("secretariat", "/reviews/{evaluation}"),
    ("secretariat", "/reviews/{follow_up}/self-assessment"),
    ("secretariat", "/reviews/{follow_up}/self-assessment/1"),
    ("secretariat", "/assignments/{lead_assignment}/evaluation/view"),
    ("secretariat", "/reviews/{follow_up}/report"),
    ("secretariat", "/reviews/{response}/response"),
    ("secretariat", "/reviews/{follow_up}/follow-up"),
    ("secretariat", "/reviews/{follow_up}/publication"),
    ("secretariat", "/reviews/{follow_up}/mid-term"),
    ("secretariat", "/recommendations"),
    ("secretariat", "/recommendations?response=supported&priority=high"),
    ("secretariat", "/recommendations/export.csv"),
    ("secretariat", "/recommendations/export.xlsx"),
    ("secretariat", "/states"),
    ("secretariat", "/states/{state}/history"),
    # the focal point of the follow-up review's state
    ("focal_point", "/home"),
    ("focal_point", "/reviews/{follow_up}"),
    ("focal_point", "/reviews/{follow_up}/self-assessment"),
    ("focal_point", "/reviews/{follow_up}/self-assessment/2"),
    ("focal_point", "/reviews/{follow_up}/report"),
    ("focal_point", "/reviews/{follow_up}/follow-up"),
    ("focal_point", "/recommendations"),
    ("focal_point", "/reviews/{follow_up}/publication"),
    ("focal_point", "/states/{state}/history"),
    # the focal point of a state still answering its self-assessment
    ("answering", "/home"),
    ("answering", "/reviews/{self_assessment}/self-assessment"),
    ("answering", "/reviews/{self_assessment}/self-assessment/3"),
    # the lead reviewer of the evaluation review
    ("reviewer", "/home"),
    ("reviewer", "/assignments/{lead_assignment}"),
    ("reviewer", "/assignments/{lead_assignment}/evaluation"),
    ("reviewer", "/reviews/{evaluation}"),
    ("reviewer", "/reviews/{evaluation}/self-assessment"),
    ("reviewer", "/reviews/{evaluation}/report/edit"),
    # anyone
    ("public", "/public/"),
    ("public", "/public/recommendations"),
    ("public", "/public/recommendations?group=WEOG&response=supported&q=rights"),
    ("public", "/public/recommendations?status=not_assessed&category=4&page=2"),
    ("public", "/public/recommendations.csv?response=noted"),
    ("public", "/public/reports/{published}"),
    ("public", "/public/good-practices"),
]


def _ids() -> dict[str, int | str]:
    """The ids the page URLs name, and the e-mails of the people who look at them."""
    session = _db.session
    cycle = session.scalar(
        select(Cycle).where(Cycle.status == "open", Cycle.name.like("Bench %")).limit(1)
    )

    def first(status: ReviewStatus) -> Review:
        return session.scalar(
            select(Review)
            .where(Review.cycle_id == cycle.id, Review.status == status)
            .order_by(Review.id)
            .limit(1)
        )

    follow_up, response, evaluation, answering = (
        first(ReviewStatus.FOLLOW_UP),
        first(ReviewStatus.RESPONSE),
        first(ReviewStatus.EVALUATION),
        first(ReviewStatus.SELF_ASSESSMENT),
    )
    lead = session.scalar(
        select(Assignment).where(Assignment.review_id == evaluation.id, Assignment.is_lead)
    )
    published = session.scalar(
        select(PublicationConsent.review_id)
        .join(Review, Review.id == PublicationConsent.review_id)
        .where(PublicationConsent.level == ConsentLevel.FULL, Review.cycle_id == cycle.id)
        .order_by(PublicationConsent.review_id)
        .limit(1)
    )
    state = session.get(State, follow_up.state_id)
    focal_point = session.scalar(
        select(User).where(User.email == bench_data.focal_point_email(state.code))
    )
    return {
        "cycle": cycle.id,
        "follow_up": follow_up.id,
        "response": response.id,
        "evaluation": evaluation.id,
        "self_assessment": answering.id,
        "answering_email": bench_data.focal_point_email(
            session.get(State, answering.state_id).code
        ),
        "lead_assignment": lead.id,
        "published": published,
        "state": state.id,
        "focal_point_id": focal_point.id,
        "secretariat_email": bench_data.SECRETARIAT_EMAIL,
        "focal_point_email": focal_point.email,
        "reviewer_email": session.get(User, lead.reviewer_id).email,
    }


@pytest.fixture(scope="module")
def worlds(template_db, tmp_path_factory):
    """``{"small": (app, ids), "full": (app, ids)}``, each its own seeded database."""
    made = {}
    for name, states in SIZES.items():
        app = create_app(_make_config(template_db()))
        app.config["UPLOAD_FOLDER"] = str(tmp_path_factory.mktemp(f"uploads-{name}"))
        app.test_client_class = FreshContextClient
        with app.app_context():
            bench_data.seed_bench(states=states, cycles=2, recommendations=6, seed=5)
            made[name] = (app, _ids())
            _db.session.remove()
    yield made
    for app, _unused in made.values():
        with app.app_context():
            _db.engine.dispose()


def page_queries(app, ids: dict, who: str, template: str) -> int:
    """Queries run by GET ``template`` (formatted with ``ids``) as ``who``; asserts a 200."""
    client = app.test_client()
    if who != "public":
        from tests.conftest import current_code, enrol_if_required

        with app.app_context():
            user = _db.session.scalar(select(User).where(User.email == ids[f"{who}_email"]))
            enrol_if_required(user)  # the secretariat signs in with a second step
            code = current_code(user) if user.has_two_factor else None
            _db.session.remove()
        signed_in = client.post(
            "/login", data={"email": ids[f"{who}_email"], "password": bench_data.PASSWORD}
        )
        assert signed_in.status_code == 302
        if code is not None:
            assert client.post("/login/code", data={"code": code}).status_code == 302
    url = template.format(**ids)
    with app.app_context():
        engine = _db.engine
    with QueryCounter(engine) as counter:
        response = client.get(url)
    assert response.status_code == 200, (who, url, response.status_code)
    return counter.count


@pytest.mark.parametrize(("who", "template"), PAGES)
def test_page_queries_do_not_grow_with_states_and_reviews(worlds, who, template):
    small = page_queries(*worlds["small"], who, template)
    full = page_queries(*worlds["full"], who, template)
    assert (small, full) == (small, small), f"{who} {template}: {small} → {full} queries"
    assert full <= MAX_QUERIES, f"{who} {template}: {full} queries"


def test_the_full_size_world_is_full_size(worlds):
    app, _ids_ = worlds["full"]
    with app.app_context():
        assert _db.session.scalar(select(Review.id).order_by(Review.id.desc()).limit(1)) > 193
        reviews = _db.session.scalars(select(Review.state_id).distinct()).all()
        assert len(reviews) == 193
