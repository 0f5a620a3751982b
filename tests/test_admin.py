"""The secretariat's administration screens: accounts, cycles, participating states, teams."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, insert, select

from app.models import (
    Answer,
    Assignment,
    Cycle,
    FrameworkSection,
    Question,
    Review,
    ReviewDeadline,
    Role,
    TransitionLog,
    User,
)
from app.services import reference
from workflows import AssignmentStatus, CycleStatus, ReviewStatus

NEW_PASSWORD = "a-long-enough-password"


@pytest.fixture
def secretariat(make, login_as):
    user = make.secretariat()
    login_as(user)
    return user


def _user_form(make, **overrides) -> dict:
    data = {
        "email": "amani@example.org",
        "display_name": "Amani Wanjirū",
        "role": "focal_point",
        "state": str(make.state("KEN").id),
        "password": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def _cycle_form(db, **overrides) -> dict:
    data = {
        "name": "2028 cycle",
        "framework": str(reference.latest_framework().id),
        "starts_on": "2028-02-01",
        "time_zone": "Africa/Nairobi",
        "self_assessment_days": "60",
        "evaluation_days": "90",
        "factual_check_days": "30",
        "response_days": "60",
        "follow_up_days": "365",
        "team_size": "3",
    }
    data.update(overrides)
    return data


def _input_value(page: str, name: str) -> str | None:
    """The value attribute of the <input> whose name is ``name``."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


@contextmanager
def _queries(db):
    """Count the SQL statements run inside the block: ``with _queries(db) as n: ...; n()``."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@contextmanager
def _committed_first(db, model, row):
    """Play a concurrent request (the first of a double click): just before the request under
    test inserts its first ``model`` row — after its own duplicate check — another connection
    inserts and commits ``row(target)``, the same row as far as the unique constraint goes."""
    fired: list[bool] = []

    def insert_first(_mapper, _connection, target):
        if fired:
            return
        fired.append(True)
        with db.engine.connect() as other:
            other.execute(insert(model.__table__).values(**row(target)))
            other.commit()

    event.listen(model, "before_insert", insert_first)
    try:
        yield fired
    finally:
        event.remove(model, "before_insert", insert_first)


def _edit_form(user, **overrides) -> dict:
    data = {
        "display_name": user.display_name,
        "role": str(user.role),
        "state": str(user.state_id or ""),
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- accounts ----------------------------------------------------------------------------------


def test_secretariat_creates_focal_point_account_who_can_then_sign_in(
    client, db, make, secretariat, login_as
):
    response = client.post("/admin/users/new", data=_user_form(make))

    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "amani@example.org"))
    assert user.display_name == "Amani Wanjirū"
    assert user.role == Role.FOCAL_POINT
    assert user.state.code == "KEN"
    assert user.active
    assert "Amani Wanjirū" in client.get("/admin/users").get_data(as_text=True)
    login_as(user, password=NEW_PASSWORD)
    assert "Kenya" in client.get("/home").get_data(as_text=True)


def test_duplicate_email_is_refused_and_the_form_keeps_what_was_typed(
    client, db, make, secretariat
):
    make.focal_point("GHA")
    existing = db.session.scalar(select(User).where(User.role == Role.FOCAL_POINT))

    response = client.post(
        "/admin/users/new",
        data=_user_form(make, email=existing.email.upper(), display_name="Kofi Mensah-Ōsei"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already exists" in page
    assert "Kofi Mensah-Ōsei" in page
    assert _count(db, User, User.email == existing.email) == 1


def test_focal_point_without_a_state_is_refused_with_a_clear_message(client, db, secretariat, make):
    response = client.post("/admin/users/new", data=_user_form(make, state=""))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "belongs to exactly one state" in page
    assert "amani@example.org" in page
    assert _count(db, User, User.email == "amani@example.org") == 0


def test_peer_reviewer_without_a_state_is_refused(client, db, secretariat, make):
    response = client.post("/admin/users/new", data=_user_form(make, role="reviewer", state=""))

    assert response.status_code == 422
    assert "belongs to exactly one state" in response.get_data(as_text=True)


def test_secretariat_account_needs_no_state_and_ignores_one_given(client, db, secretariat, make):
    response = client.post("/admin/users/new", data=_user_form(make, role="secretariat"))

    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "amani@example.org"))
    assert user.role == Role.SECRETARIAT
    assert user.state_id is None


def test_short_initial_password_is_refused(client, db, secretariat, make):
    response = client.post("/admin/users/new", data=_user_form(make, password="short-pw"))

    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)
    assert _count(db, User, User.email == "amani@example.org") == 0


def test_user_list_filters_by_role_and_state(client, make, secretariat):
    make.user(Role.FOCAL_POINT, "KEN", name="Focal Kenya")
    make.user(Role.REVIEWER, "KEN", name="Reviewer Kenya")
    make.user(Role.REVIEWER, "BRA", name="Reviewer Brazil")

    by_role = client.get("/admin/users?role=reviewer").get_data(as_text=True)
    assert "Reviewer Kenya" in by_role and "Reviewer Brazil" in by_role
    assert "Focal Kenya" not in by_role

    kenya = make.state("KEN").id
    both = client.get(f"/admin/users?role=reviewer&state={kenya}").get_data(as_text=True)
    assert "Reviewer Kenya" in both
    assert "Reviewer Brazil" not in both and "Focal Kenya" not in both
    assert "African Group" in both


def test_deactivated_account_stays_listed_and_can_no_longer_sign_in(client, db, make, secretariat):
    reviewer = make.reviewer("BRA")

    response = client.post(
        f"/admin/users/{reviewer.id}/edit",
        data={"display_name": "Ana Souza", "role": "reviewer", "state": str(reviewer.state_id)},
    )

    assert response.status_code == 302
    db.session.refresh(reviewer)
    assert reviewer.active is False
    assert reviewer.display_name == "Ana Souza"
    assert "Ana Souza" in client.get("/admin/users?active=0").get_data(as_text=True)
    assert "Ana Souza" not in client.get("/admin/users?active=1").get_data(as_text=True)
    client.post("/logout")
    refused = client.post(
        "/login", data={"email": reviewer.email, "password": "correct-horse-battery"}
    )
    assert refused.status_code == 200
    assert "not correct" in refused.get_data(as_text=True)


def test_edit_changes_role_and_state(client, db, make, secretariat):
    user = make.focal_point("KEN")

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "display_name": user.display_name,
            "role": "reviewer",
            "state": str(make.state("GHA").id),
            "active": "y",
        },
    )

    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.role, user.state.code, user.active) == (Role.REVIEWER, "GHA", True)


def test_edit_form_shows_current_values(client, make, secretariat):
    user = make.user(Role.REVIEWER, "BRA", name="Ana Souza")

    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)

    assert 'value="Ana Souza"' in page
    assert f'<option selected value="{user.state_id}">' in page
    assert user.email in page


def test_secretariat_cannot_deactivate_own_account(client, db, secretariat):
    response = client.post(
        f"/admin/users/{secretariat.id}/edit",
        data={"display_name": "Me", "role": "secretariat", "state": ""},
    )

    assert response.status_code == 422
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.refresh(secretariat)
    assert secretariat.active


def test_reviewer_cannot_be_moved_to_a_state_they_are_reviewing(client, db, make, secretariat):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, actor=secretariat)

    response = client.post(
        f"/admin/users/{reviewer.id}/edit",
        data={
            "display_name": reviewer.display_name,
            "role": "reviewer",
            "state": str(make.state("KEN").id),
            "active": "y",
        },
    )

    assert response.status_code == 422
    assert "never reviews their own state" in response.get_data(as_text=True)
    db.session.refresh(reviewer)
    assert reviewer.state.code == "BRA"


def test_edit_refuses_short_new_password(client, make, secretariat):
    user = make.focal_point("KEN")

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "display_name": "X",
            "role": "focal_point",
            "state": str(user.state_id),
            "active": "y",
            "new_password": "tooshort",
        },
    )

    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_outdated_account_form_is_refused_and_a_deliberate_second_save_goes_through(
    app, client, db, make, secretariat, login_as
):
    reviewer = make.user(Role.REVIEWER, "BRA", name="Ana Souza")
    url = f"/admin/users/{reviewer.id}/edit"
    opened = _input_value(client.get(url).get_data(as_text=True), "base_version")
    assert opened
    other = login_as(make.secretariat(), on=app.test_client())
    assert other.post(url, data=_edit_form(reviewer, active=None)).status_code == 302

    stale = _edit_form(
        reviewer,
        display_name="Ana Souza-Lima",
        new_password="another-long-password",
        base_version=opened,
    )
    response = client.post(url, data=stale)

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else saved this account after you opened this form" in page
    assert "deactivated" in page
    assert _input_value(page, "display_name") == "Ana Souza-Lima"
    assert "another-long-password" not in page
    db.session.refresh(reviewer)
    assert (reviewer.active, reviewer.display_name) == (False, "Ana Souza")
    refreshed = _input_value(page, "base_version")
    assert refreshed and refreshed != opened

    again = client.post(url, data={**stale, "base_version": refreshed})

    assert again.status_code == 302
    db.session.refresh(reviewer)
    assert (reviewer.active, reviewer.display_name) == (True, "Ana Souza-Lima")


def test_account_form_saved_from_an_up_to_date_page_goes_through(client, db, make, secretariat):
    user = make.focal_point("KEN")
    url = f"/admin/users/{user.id}/edit"
    version = _input_value(client.get(url).get_data(as_text=True), "base_version")

    response = client.post(url, data=_edit_form(user, display_name="Akinyi", base_version=version))

    assert response.status_code == 302
    db.session.refresh(user)
    assert user.display_name == "Akinyi"


@pytest.mark.parametrize(
    "query",
    [
        "state=99999999999999999999999",
        "state=%C2%B2",
        "state=-1",
        "role=nobody",
        "active=maybe",
    ],
)
def test_unusable_user_filter_is_ignored_with_a_message(client, make, secretariat, query):
    make.user(Role.FOCAL_POINT, "KEN", name="Focal Kenya")

    response = client.get(f"/admin/users?{query}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the filter was ignored" in page
    assert "Focal Kenya" in page


def test_double_click_on_create_account_creates_one_and_says_it_exists(
    client, db, make, secretariat
):
    def first_click(target):
        return {
            "email": target.email,
            "display_name": target.display_name,
            "password_hash": target.password_hash,
            "role": target.role,
            "state_id": target.state_id,
            "active": True,
            "session_token": "0" * 32,
        }

    with _committed_first(db, User, first_click) as fired:
        response = client.post("/admin/users/new", data=_user_form(make))

    page = response.get_data(as_text=True)
    assert fired
    assert response.status_code == 409
    assert "An account with e-mail amani@example.org already exists." in page
    assert _input_value(page, "display_name") == "Amani Wanjirū"
    assert _count(db, User, User.email == "amani@example.org") == 1


def test_double_click_on_invite_reviewer_invites_once_and_says_so(client, db, make, secretariat):
    review = make.review("KEN")
    reviewer = make.user(Role.REVIEWER, "BRA", name="Ana Souza")

    def first_click(target):
        return {
            "review_id": target.review_id,
            "reviewer_id": target.reviewer_id,
            "status": AssignmentStatus.INVITED,
            "is_lead": False,
            "justification": "First click.",
            "created_by_id": target.created_by_id,
        }

    with _committed_first(db, Assignment, first_click) as fired:
        response = _assign(client, review, reviewer, justification="Speaks Swahili.")

    page = response.get_data(as_text=True)
    assert fired
    assert response.status_code == 409
    assert "Ana Souza is already on this review" in page
    assert "Speaks Swahili." in page
    assert _count(db, Assignment, Assignment.review_id == review.id) == 1


def test_double_click_on_add_states_adds_once_and_says_so(client, db, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)
    kenya = make.state("KEN")

    def first_click(target):
        return {
            "cycle_id": target.cycle.id,
            "state_id": target.state.id,
            "status": ReviewStatus.SELF_ASSESSMENT,
            "status_changed_at": target.status_changed_at,
        }

    with _committed_first(db, Review, first_click) as fired:
        response = client.post(f"/admin/cycles/{cycle.id}/states", data={"states": [kenya.id]})

    assert fired
    assert response.status_code == 409
    assert "Kenya already takes part in this cycle" in response.get_data(as_text=True)
    assert _count(db, Review, Review.cycle_id == cycle.id) == 1


@pytest.mark.parametrize("finished", [ReviewStatus.CLOSED, ReviewStatus.WITHDRAWN])
def test_reviewer_whose_past_reviews_are_finished_may_change_role_and_state(
    client, db, make, secretariat, finished
):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, status=AssignmentStatus.SUBMITTED, actor=secretariat)
    review.status = finished
    db.session.commit()

    response = client.post(
        f"/admin/users/{reviewer.id}/edit",
        data=_edit_form(reviewer, role="focal_point", state=str(make.state("KEN").id)),
    )

    assert response.status_code == 302
    db.session.refresh(reviewer)
    assert (reviewer.role, reviewer.state.code) == (Role.FOCAL_POINT, "KEN")


def test_reviewer_still_working_on_a_review_keeps_the_role_and_is_told_which(
    client, db, make, secretariat
):
    review = make.review("KEN", make.cycle("2027 cycle"))
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, status=AssignmentStatus.SUBMITTED, actor=secretariat)
    review.status = ReviewStatus.EVALUATION
    db.session.commit()

    response = client.post(
        f"/admin/users/{reviewer.id}/edit", data=_edit_form(reviewer, role="focal_point")
    )

    assert response.status_code == 422
    assert "still works on these reviews: Kenya (2027 cycle)" in response.get_data(as_text=True)
    db.session.refresh(reviewer)
    assert reviewer.role == Role.REVIEWER


def test_reviewer_declined_on_an_open_review_may_change_role(client, db, make, secretariat):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, status=AssignmentStatus.DECLINED, actor=secretariat)

    response = client.post(
        f"/admin/users/{reviewer.id}/edit", data=_edit_form(reviewer, role="focal_point")
    )

    assert response.status_code == 302


@pytest.mark.parametrize("status", [AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED])
def test_deactivating_a_reviewer_mid_review_is_refused_naming_the_review(
    client, db, make, secretariat, status
):
    review = make.review("GHA", make.cycle("2027 cycle"))
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, lead=True, status=status, actor=secretariat)

    response = client.post(
        f"/admin/users/{reviewer.id}/edit", data=_edit_form(reviewer, active=None)
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ghana (2027 cycle)" in page
    assert "withdraw these assignments first" in page
    db.session.refresh(reviewer)
    assert reviewer.active


def test_deactivating_the_last_focal_point_of_a_state_under_review_is_refused(
    client, db, make, secretariat
):
    make.review("KEN", make.cycle("2027 cycle"))
    focal_point = make.focal_point("KEN")

    response = client.post(
        f"/admin/users/{focal_point.id}/edit", data=_edit_form(focal_point, active=None)
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "only active focal point of Kenya" in page
    assert "Kenya (2027 cycle)" in page
    assert "Create another focal point for Kenya first" in page
    db.session.refresh(focal_point)
    assert focal_point.active


def test_moving_the_last_focal_point_of_a_state_under_review_is_refused(
    client, db, make, secretariat
):
    make.review("KEN")
    focal_point = make.focal_point("KEN")

    response = client.post(
        f"/admin/users/{focal_point.id}/edit",
        data=_edit_form(focal_point, state=str(make.state("GHA").id)),
    )

    assert response.status_code == 422
    assert "Create another focal point for Kenya first" in response.get_data(as_text=True)


def test_a_focal_point_may_be_deactivated_when_another_remains_or_the_review_is_over(
    client, db, make, secretariat
):
    review = make.review("KEN")
    first, second = make.focal_point("KEN"), make.focal_point("KEN")
    assert client.post(
        f"/admin/users/{first.id}/edit", data=_edit_form(first, active=None)
    ).status_code == (302)
    review.status = ReviewStatus.CLOSED
    db.session.commit()

    response = client.post(f"/admin/users/{second.id}/edit", data=_edit_form(second, active=None))

    assert response.status_code == 302
    assert _count(db, User, User.role == Role.FOCAL_POINT, User.active.is_(True)) == 0


def test_deactivation_ends_the_sessions_so_reactivation_does_not_revive_them(
    app, client, db, make, secretariat, login_as
):
    focal_point = make.focal_point("KEN")
    browser = login_as(focal_point, on=app.test_client())
    assert browser.get("/home").status_code == 200
    url = f"/admin/users/{focal_point.id}/edit"

    assert client.post(url, data=_edit_form(focal_point, active=None)).status_code == 302
    assert client.post(url, data=_edit_form(focal_point)).status_code == 302

    response = browser.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    db.session.refresh(focal_point)
    assert focal_point.active


@pytest.mark.parametrize("password", [" " * 12, "\u200b" * 12, "\t" * 6 + "\u3000" * 6])
def test_a_new_password_of_only_spaces_is_refused(client, db, make, secretariat, password):
    user = make.focal_point("KEN")
    before = user.password_hash

    response = client.post(
        f"/admin/users/{user.id}/edit", data=_edit_form(user, new_password=password)
    )

    assert response.status_code == 422
    assert "cannot be only spaces" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before


@pytest.mark.parametrize("password", [" " * 12, "\u200b" * 12])
def test_an_initial_password_of_only_spaces_is_refused(client, db, make, secretariat, password):
    response = client.post("/admin/users/new", data=_user_form(make, password=password))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "cannot be only spaces" in page
    assert _input_value(page, "display_name") == "Amani Wanjirū"
    assert _count(db, User, User.email == "amani@example.org") == 0


def test_password_inputs_ask_password_managers_not_to_fill_them(client, make, secretariat):
    user = make.focal_point("KEN")
    for url, name in [
        ("/admin/users/new", "password"),
        (f"/admin/users/{user.id}/edit", "new_password"),
    ]:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', client.get(url).get_data(as_text=True))
        assert 'autocomplete="new-password"' in tag.group(0), url


@pytest.mark.parametrize(
    "name, message",
    [
        ("\u200b", "display name with visible letters"),
        ("\u200b \u200d", "display name with visible letters"),
        ("Ana \u202eazuoS", "text-direction control characters"),
        ("\u2067Ana Souza\u2069", "text-direction control characters"),
    ],
)
def test_unreadable_display_names_are_refused(client, db, make, secretariat, name, message):
    created = client.post("/admin/users/new", data=_user_form(make, display_name=name))
    assert created.status_code == 422
    assert message in created.get_data(as_text=True)
    assert _count(db, User, User.email == "amani@example.org") == 0

    user = make.user(Role.FOCAL_POINT, "KEN", name="Akinyi Otieno")
    edited = client.post(f"/admin/users/{user.id}/edit", data=_edit_form(user, display_name=name))
    assert edited.status_code == 422
    assert message in edited.get_data(as_text=True)
    db.session.refresh(user)
    assert user.display_name == "Akinyi Otieno"


def test_names_with_joiners_in_persian_or_indic_script_are_accepted(client, db, make, secretariat):
    persian = "فروغ فرخ\u200cزاد"
    response = client.post("/admin/users/new", data=_user_form(make, display_name=persian))
    assert response.status_code == 302
    assert db.session.scalar(
        select(User.display_name).where(User.email == "amani@example.org")
    ) == (persian)

    user = make.focal_point("IDN")
    sinhala = "ශ්\u200dරී"
    assert (
        client.post(
            f"/admin/users/{user.id}/edit", data=_edit_form(user, display_name=sinhala)
        ).status_code
        == 302
    )
    db.session.refresh(user)
    assert user.display_name == sinhala


# --- cycles ------------------------------------------------------------------------------------


def test_new_cycle_form_proposes_the_model_default_durations(client, secretariat):
    page = client.get("/admin/cycles/new").get_data(as_text=True)

    for name, days in [
        ("self_assessment_days", 90),
        ("evaluation_days", 90),
        ("factual_check_days", 30),
        ("response_days", 60),
        ("follow_up_days", 365),
        ("team_size", 3),
    ]:
        assert _input_value(page, name) == str(days)
    assert _input_value(page, "time_zone") == "UTC"
    assert "R2P" in page or "v1" in page


def test_secretariat_creates_a_cycle_in_planning(client, db, secretariat):
    response = client.post("/admin/cycles/new", data=_cycle_form(db))

    assert response.status_code == 302
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == "2028 cycle"))
    assert response.headers["Location"].endswith(f"/admin/cycles/{cycle.id}")
    assert cycle.status == CycleStatus.PLANNING
    assert cycle.time_zone == "Africa/Nairobi"
    assert (cycle.self_assessment_days, cycle.team_size) == (60, 3)
    assert cycle.framework_id == reference.latest_framework().id
    listing = client.get("/admin/cycles").get_data(as_text=True)
    assert "2028 cycle" in listing and "Planning" in listing


def test_unknown_time_zone_is_refused_and_the_form_kept(client, db, secretariat):
    response = client.post("/admin/cycles/new", data=_cycle_form(db, time_zone="Mars/Olympus_Mons"))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown time zone: Mars/Olympus_Mons" in page
    assert _input_value(page, "name") == "2028 cycle"
    assert _input_value(page, "self_assessment_days") == "60"
    assert _input_value(page, "time_zone") == "Mars/Olympus_Mons"
    assert _count(db, Cycle, Cycle.name == "2028 cycle") == 0


def test_duplicate_cycle_name_is_refused(client, db, make, secretariat):
    make.cycle("2028 cycle")

    response = client.post("/admin/cycles/new", data=_cycle_form(db))

    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    assert _count(db, Cycle, Cycle.name == "2028 cycle") == 1


def test_zero_day_stage_or_oversized_team_is_refused(client, db, secretariat):
    response = client.post(
        "/admin/cycles/new", data=_cycle_form(db, evaluation_days="0", team_size="9")
    )

    assert response.status_code == 422
    assert _count(db, Cycle) == 0


def test_cycle_list_shows_status_framework_and_review_count(client, make, secretariat):
    cycle = make.cycle("2027 cycle")
    make.review("KEN", cycle)
    make.review("GHA", cycle)

    page = client.get("/admin/cycles").get_data(as_text=True)

    assert "2027 cycle" in page
    assert "Open" in page
    assert cycle.framework.label in page
    assert '<td class="text-end">2</td>' in page


# --- participating states ----------------------------------------------------------------------


def test_adding_several_states_creates_one_review_each_with_deadlines_and_prefill(
    client, db, make, secretariat
):
    cycle = make.cycle("2028 cycle", open_=False)
    ids = [make.state("KEN").id, make.state("NOR").id]

    response = client.post(f"/admin/cycles/{cycle.id}/states", data={"states": ids})

    assert response.status_code == 302
    reviews = db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)).all()
    assert sorted(r.state.code for r in reviews) == ["KEN", "NOR"]
    section_one = (
        select(Question.id)
        .join(FrameworkSection)
        .where(FrameworkSection.framework_id == cycle.framework_id, FrameworkSection.number == 1)
    )
    for review in reviews:
        assert review.status == ReviewStatus.SELF_ASSESSMENT
        assert _count(db, ReviewDeadline, ReviewDeadline.review_id == review.id) == 5
        prefilled = _count(
            db,
            Answer,
            Answer.review_id == review.id,
            Answer.prefilled.is_(True),
            Answer.question_id.in_(section_one),
        )
        assert prefilled >= 1
    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    assert "Kenya" in page and "Norway" in page


def test_adding_a_state_already_in_the_cycle_is_refused(client, db, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)
    make.review("KEN", cycle)

    response = client.post(
        f"/admin/cycles/{cycle.id}/states",
        data={"states": [make.state("KEN").id, make.state("GHA").id]},
    )

    assert response.status_code == 422
    assert "Kenya already takes part in this cycle" in response.get_data(as_text=True)
    assert _count(db, Review, Review.cycle_id == cycle.id) == 1


def test_add_states_select_offers_only_states_not_yet_in_grouped_by_regional_group(
    client, make, secretariat
):
    cycle = make.cycle("2028 cycle", open_=False)
    kenya = make.review("KEN", cycle).state

    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)

    assert f'<option value="{kenya.id}">' not in page
    assert f'<option value="{make.state("GHA").id}">Ghana</option>' in page
    assert '<optgroup label="African Group">' in page
    assert '<optgroup label="Western European and Others Group (WEOG)">' in page


def test_adding_no_state_is_refused(client, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)

    response = client.post(f"/admin/cycles/{cycle.id}/states", data={})

    assert response.status_code == 422
    assert "Choose at least one state" in response.get_data(as_text=True)


# --- cycle events --------------------------------------------------------------------------------


def test_secretariat_opens_a_cycle_through_the_event_route(client, db, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)
    make.review("KEN", cycle)

    response = client.post(
        f"/admin/cycles/{cycle.id}/events/open_cycle", data={"expected_status": "planning"}
    )

    assert response.status_code == 302
    db.session.refresh(cycle)
    assert cycle.status == CycleStatus.OPEN
    log = db.session.scalar(
        select(TransitionLog).where(
            TransitionLog.subject_type == "cycle", TransitionLog.subject_id == cycle.id
        )
    )
    assert (log.event, log.from_state, log.to_state, log.actor_id) == (
        "open_cycle",
        "planning",
        "open",
        secretariat.id,
    )


def test_opening_a_cycle_without_states_is_refused_with_the_reason(client, db, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)
    assert "Open cycle" in client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)

    response = client.post(
        f"/admin/cycles/{cycle.id}/events/open_cycle", data={"expected_status": "planning"}
    )

    assert response.status_code == 422
    assert "Add at least one participating state" in response.get_data(as_text=True)
    db.session.refresh(cycle)
    assert cycle.status == CycleStatus.PLANNING


# --- review teams --------------------------------------------------------------------------------


def _assign(client, review, reviewer, **extra):
    data = {"reviewer": str(reviewer.id), "justification": "Speaks Swahili; rule-of-law expert."}
    data.update(extra)
    return client.post(f"/admin/reviews/{review.id}/team", data=data)


def test_secretariat_assigns_a_reviewer_by_hand_with_justification(client, db, make, secretariat):
    review = make.review("KEN")
    reviewer = make.user(Role.REVIEWER, "BRA", name="Ana Souza")

    response = _assign(client, review, reviewer, is_lead="y")

    assert response.status_code == 302
    assignment = db.session.scalar(select(Assignment).where(Assignment.review_id == review.id))
    assert assignment.reviewer_id == reviewer.id
    assert assignment.status == AssignmentStatus.INVITED
    assert assignment.is_lead
    assert assignment.justification == "Speaks Swahili; rule-of-law expert."
    assert (
        _count(
            db,
            TransitionLog,
            TransitionLog.subject_type == "assignment",
            TransitionLog.subject_id == assignment.id,
            TransitionLog.event == "invite",
        )
        == 1
    )
    page = client.get(f"/admin/reviews/{review.id}/team").get_data(as_text=True)
    assert "Ana Souza" in page and "Brazil" in page and "GRULAC" in page
    assert "Invited" in page and "Lead" in page
    assert f"/assignments/{assignment.id}/events/withdraw_assignment" in page


def test_reviewer_from_the_reviewed_state_is_refused_and_the_form_kept(
    client, db, make, secretariat
):
    review = make.review("KEN")
    national = make.user(Role.REVIEWER, "KEN", name="Wanjiku Kamau")

    response = _assign(client, review, national, justification="Knows the country well.")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "never reviews their own state" in page
    assert "Knows the country well." in page
    assert f'<option selected value="{national.id}">' in page
    assert _count(db, Assignment, Assignment.review_id == review.id) == 0


def test_a_second_lead_reviewer_is_refused(client, db, make, secretariat):
    review = make.review("KEN")
    make.assignment(review, make.reviewer("BRA"), lead=True, actor=secretariat)

    response = _assign(client, review, make.reviewer("POL"), is_lead="y")

    assert response.status_code == 422
    assert "already has a lead reviewer" in response.get_data(as_text=True)
    assert _count(db, Assignment, Assignment.review_id == review.id) == 1


def test_assignment_by_hand_needs_a_justification(client, db, make, secretariat):
    review = make.review("KEN")

    response = _assign(client, review, make.reviewer("BRA"), justification="  ")

    assert response.status_code == 422
    assert "justification" in response.get_data(as_text=True)
    assert _count(db, Assignment, Assignment.review_id == review.id) == 0


def test_justification_of_only_invisible_characters_is_refused(client, db, make, secretariat):
    review = make.review("KEN")

    response = _assign(client, review, make.reviewer("BRA"), justification="\u200b\u200b\u2060")

    assert response.status_code == 422
    assert "Please give the justification" in response.get_data(as_text=True)
    assert _count(db, Assignment, Assignment.review_id == review.id) == 0


def test_reviewer_select_marks_nationals_and_regional_groups_already_on_the_team(
    client, make, secretariat
):
    review = make.review("KEN")
    make.assignment(review, make.user(Role.REVIEWER, "BRA", name="Ana Souza"), actor=secretariat)
    national = make.user(Role.REVIEWER, "KEN", name="Wanjiku Kamau")
    same_group = make.user(Role.REVIEWER, "CRI", name="Sofía Mora")

    page = client.get(f"/admin/reviews/{review.id}/team").get_data(as_text=True)

    assert (
        f'<option value="{national.id}">Wanjiku Kamau (Kenya, African Group) '
        "(national of the reviewed state)</option>"
    ) in page
    assert (
        f'<option value="{same_group.id}">Sofía Mora (Costa Rica, GRULAC) '
        "(regional group already on the team)</option>"
    ) in page


def test_inviting_beyond_the_team_size_is_allowed_with_a_warning(client, db, make, secretariat):
    review = make.review("KEN", make.cycle("2027 cycle", team_size=2))
    make.assignment(review, make.reviewer("BRA"), actor=secretariat)
    make.assignment(review, make.reviewer("POL"), actor=secretariat)
    assert "another invitation goes beyond the team size" in client.get(
        f"/admin/reviews/{review.id}/team"
    ).get_data(as_text=True)

    response = _assign(client, review, make.user(Role.REVIEWER, "JPN", name="Yuki Tanaka"))

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Yuki Tanaka is invited" in page
    assert "The team now has 3 reviewers invited or working, more than" in page
    assert "team size of 2" in page
    assert _count(db, Assignment, Assignment.review_id == review.id) == 3


def test_a_second_reviewer_from_the_same_regional_group_is_allowed_with_a_warning(
    client, db, make, secretariat
):
    review = make.review("KEN", make.cycle("2027 cycle", team_size=3))
    make.assignment(review, make.user(Role.REVIEWER, "BRA", name="Ana Souza"), actor=secretariat)

    response = _assign(client, review, make.user(Role.REVIEWER, "CRI", name="Sofía Mora"))

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sofía Mora is from the same regional group (GRULAC) as Ana Souza" in page
    assert "more than the cycle" not in page


def test_inviting_within_the_rules_gives_no_warning(client, make, secretariat):
    review = make.review("KEN", make.cycle("2027 cycle", team_size=3))
    make.assignment(review, make.reviewer("BRA"), actor=secretariat)

    response = _assign(client, review, make.user(Role.REVIEWER, "POL", name="Jan Kowalski"))

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Jan Kowalski is invited" in page
    assert "alert-warning" not in page


def test_reviewer_select_lists_reviewers_not_yet_on_the_review(client, make, secretariat):
    review = make.review("KEN")
    on_team = make.user(Role.REVIEWER, "BRA", name="Ana Souza")
    make.assignment(review, on_team, actor=secretariat)
    free = make.user(Role.REVIEWER, "POL", name="Jan Kowalski")
    make.user(Role.FOCAL_POINT, "GHA", name="Focal Ghana")

    page = client.get(f"/admin/reviews/{review.id}/team").get_data(as_text=True)

    option = f'<option value="{free.id}">Jan Kowalski (Poland, Eastern European Group)</option>'
    assert option in page
    assert f'<option value="{on_team.id}">' not in page
    assert "Focal Ghana" not in page


def test_team_page_shows_decline_reason_and_offers_reinstatement(client, db, make, secretariat):
    review = make.review("KEN")
    assignment = make.assignment(
        review, make.reviewer("BRA"), status=AssignmentStatus.DECLINED, actor=secretariat
    )
    assignment.decline_reason = "On mission abroad until June."
    db.session.commit()

    page = client.get(f"/admin/reviews/{review.id}/team").get_data(as_text=True)

    assert "On mission abroad until June." in page
    assert f"/assignments/{assignment.id}/events/reinstate" in page
    assert f"/assignments/{assignment.id}/events/withdraw_assignment" not in page


def test_team_page_offers_start_evaluation_in_peer_assignment(client, db, make, secretariat):
    review = make.review("KEN")
    review.status = ReviewStatus.PEER_ASSIGNMENT
    db.session.commit()

    page = client.get(f"/admin/reviews/{review.id}/team").get_data(as_text=True)

    assert f"/reviews/{review.id}/events/start_evaluation" in page


def test_no_assignment_by_hand_once_the_review_is_past_evaluation(client, db, make, secretariat):
    review = make.review("KEN")
    review.status = ReviewStatus.RESPONSE
    db.session.commit()

    assert "no longer takes new reviewers" in client.get(
        f"/admin/reviews/{review.id}/team"
    ).get_data(as_text=True)
    response = _assign(client, review, make.reviewer("BRA"))
    assert response.status_code == 422
    assert _count(db, Assignment, Assignment.review_id == review.id) == 0


def test_malformed_input_gets_a_message_never_a_server_error(client, db, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)
    review = make.review("KEN", cycle)
    focal_point = make.focal_point("GHA")

    assert client.get("/admin/users?role=nobody&state=abc&active=maybe").status_code == 200
    assert (
        client.post("/admin/cycles/new", data=_cycle_form(db, framework="abc")).status_code == 422
    )
    bad_date = client.post("/admin/cycles/new", data=_cycle_form(db, starts_on="31/02/2028"))
    assert bad_date.status_code == 422
    assert (
        client.post(f"/admin/cycles/{cycle.id}/states", data={"states": ["x"]}).status_code == 422
    )
    unknown = client.post(f"/admin/cycles/{cycle.id}/states", data={"states": ["999999"]})
    assert unknown.status_code == 422
    assert "not a UN member state" in unknown.get_data(as_text=True)
    assert _assign(client, review, focal_point).status_code == 422
    assert "not a peer reviewer" in _assign(client, review, focal_point).get_data(as_text=True)
    assert (
        client.post(f"/admin/reviews/{review.id}/team", data={"reviewer": "x"}).status_code == 422
    )
    assert client.post(f"/admin/cycles/{cycle.id}/events/no_such_event").status_code == 404
    assert client.get("/admin/cycles/999999").status_code == 404
    assert client.get("/admin/users/999999/edit").status_code == 404
    assert _count(db, Cycle) == 1
    assert _count(db, Review) == 1
    assert _count(db, Assignment) == 0


# --- bounded queries (DESIGN §10) ---------------------------------------------------------------


def _page_queries(client, db, url: str) -> int:
    with _queries(db) as count:
        assert client.get(url).status_code == 200
    return count()


def test_admin_pages_query_count_does_not_grow_with_rows(client, db, make, secretariat):
    cycle = make.cycle("2028 cycle", open_=False)
    review = make.review("KEN", cycle)
    make.assignment(review, make.reviewer("BRA"), actor=secretariat)
    urls = [
        "/admin/users",
        "/admin/cycles",
        f"/admin/cycles/{cycle.id}",
        f"/admin/reviews/{review.id}/team",
    ]
    before = {url: _page_queries(client, db, url) for url in urls}

    for code in ("GHA", "NOR", "JPN", "POL"):
        make.review(code, cycle)
        make.assignment(review, make.reviewer(code), actor=secretariat)
        make.focal_point(code)
    make.cycle("2029 cycle")

    after = {url: _page_queries(client, db, url) for url in urls}
    assert after == before


# --- who may use the administration --------------------------------------------------------------


def _admin_urls(make) -> list[tuple[str, str]]:
    review = make.review("KEN")
    user = make.reviewer("BRA")
    cycle_id = review.cycle_id
    return [
        ("GET", "/admin/users"),
        ("GET", "/admin/users/new"),
        ("POST", "/admin/users/new"),
        ("GET", f"/admin/users/{user.id}/edit"),
        ("POST", f"/admin/users/{user.id}/edit"),
        ("GET", "/admin/cycles"),
        ("GET", "/admin/cycles/new"),
        ("POST", "/admin/cycles/new"),
        ("GET", f"/admin/cycles/{cycle_id}"),
        ("POST", f"/admin/cycles/{cycle_id}/states"),
        ("POST", f"/admin/cycles/{cycle_id}/events/close_cycle"),
        ("GET", f"/admin/reviews/{review.id}/team"),
        ("POST", f"/admin/reviews/{review.id}/team"),
    ]


@pytest.mark.parametrize("role", ["focal_point", "reviewer"])
def test_every_admin_url_is_refused_to_focal_points_and_reviewers(client, db, make, login_as, role):
    urls = _admin_urls(make)
    # the reviewer is on the team and the focal point is of the reviewed state: closest to access
    review = db.session.scalar(select(Review))
    if role == "focal_point":
        login_as(make.focal_point("KEN"))
    else:
        reviewer = make.reviewer("GHA")
        make.assignment(review, reviewer, lead=True, status=AssignmentStatus.ACCEPTED)
        login_as(reviewer)
    for method, url in urls:
        response = client.open(url, method=method, data={"role": "secretariat"})
        assert response.status_code == 403, (method, url)
    assert _count(db, Cycle) == 1
    assert db.session.scalar(select(Cycle)).status == CycleStatus.OPEN


def test_every_admin_url_sends_anonymous_visitors_to_sign_in(client, make):
    for method, url in _admin_urls(make):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login"), (method, url)


def test_navigation_shows_cycles_and_users_only_to_the_secretariat(client, make, login_as):
    login_as(make.focal_point("KEN"))
    assert "/admin/cycles" not in client.get("/home").get_data(as_text=True)
    login_as(make.secretariat())
    page = client.get("/home").get_data(as_text=True)
    assert "/admin/cycles" in page and "/admin/users" in page
