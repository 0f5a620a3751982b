"""Walk every route of the app as outsiders of a review: nothing of Kenya's review may leak.

Every URL rule is called with the ids of Kenya's review (its assignment, cycle, recommendation,
evidence file…) with every HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE) as: anonymous, a focal
point of Ghana, a reviewer not on the team, and reviewers of the review who were invited (not yet
accepted), withdrawn, declined or conflicted (issue 7; DESIGN §5). Any success DESIGN §5 does not
allow fails the test, and so does any page showing Kenya's file name; a route with a parameter
nobody classified below fails it too, so new routes (exports, say) must be looked at here.
OPTIONS is left out: Flask answers it for every route with the allowed methods only, no data.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.models import Assignment, Draw, Notification, Question, Recommendation
from app.services import api_tokens, evidence
from tests.factories import prepared_review
from workflows import AssignmentStatus, ReviewStatus

#: Routes anyone signed in may use, whatever their state (no review data behind them).
PUBLIC_TO_SIGNED_IN = {
    "static",
    "main.index",
    "main.home",
    "main.states",
    "main.choose_language",  # the language switcher: the chooser's own account or session only
    "auth.login",
    "auth.logout",
    "auth.forgot_password",
    "auth.reset_password",
    "notifications.mark_all_read",  # marks the signed-in user's own notifications only
    # the no-JavaScript confirmation of an irreversible step (issue 16): shows back the fields
    # the user posted and changes nothing; the step's own route makes its checks
    "confirm.page",
    "tokens.index",  # the signed-in user's own API tokens only (issue 19)
    "api_docs.index",  # the API's documentation page and its OpenAPI document
    "api-docs.openapi_json",
    # issue 14: one's own second factor, the second step of signing in, the health check
    # (their rows by role: `test_account_security_routes_by_role`)
    "auth.second_factor",
    "auth.two_factor",
    "ops.healthz",
}
#: Public pages, without sign-in (issue 5): they read only published reviews (report adopted and
#: consented). `test_public_pages_show_nothing_unconsented` walks them instead.
PUBLIC = {
    "public.index",
    "public.report",
    "public.midterm",
    "public.recommendations",
    "public.recommendations_csv",
    "public.good_practices",
    "action_plan_public.public_plan",  # the action plan, with the state's full consent only
    "assistance.library",  # evaluated programmes both parties consented to publish (issue 18)
    # the public API reads through the same service (issue 19)
    "api_public.reports",
    "api_public.report",
    "api_public.midterm",
    "api_public.recommendations",
    "api_public.good_practices",
    # the published report and mid-term report as PDF (issue 19)
    "documents.public_report_pdf",
    "documents.public_midterm_pdf",
}
#: Routes anyone signed in may use whose rows are filtered by who-sees-what (DESIGN §5): the walk
#: checks that no text of Kenya's review appears in what outsiders get.
FILTERED_TO_SIGNED_IN = {
    "notifications.index",  # each user's own notifications only (issue 6)
    "recommendations.index",
    "recommendations.export_csv",
    "recommendations.export_xlsx",
}
SECRET = "independent police complaints authority"
REFUSED = {403, 404, 405}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
#: Part of the name of Kenya's evidence file: no page seen by an outsider may show it.
FILE_MARK = "kenya-police-oversight"


def _leaks(response) -> bool:
    """Whether Kenya's recommendation text or file name is in the response (an XLSX is
    unpacked)."""
    body = response.get_data()
    if body[:2] == b"PK":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body)).active
        body = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row).encode()
    return SECRET.encode() in body or FILE_MARK.encode() in body


def _prepare(make, db, status):
    prepared = prepared_review(make)
    question = db.session.scalar(select(Question).where(Question.code == "SEC-1"))
    upload = FileStorage(io.BytesIO(b"%PDF-1.7\n%%EOF\n"), filename=f"{FILE_MARK}.pdf")
    prepared.file = evidence.attach(
        prepared.review, question, upload, prepared.identities["focal_point"]
    )
    # Kenya's action plan (issue 17): a measure answering the recommendation, named after it
    from app.models import Measure

    recommendation = db.session.scalar(
        select(Recommendation).where(Recommendation.review_id == prepared.review.id)
    )
    prepared.measure = Measure(
        review_id=prepared.review.id, title=f"Measure: {SECRET}", budget_line="KES 1"
    )
    prepared.measure.recommendations = [recommendation]
    db.session.add(prepared.measure)
    db.session.flush()
    prepared.review.status = status
    # a notification of Kenya's focal point naming the file: nobody else may read it (issue 6)
    prepared.note = Notification(
        recipient_id=prepared.identities["focal_point"].id,
        kind="test",
        subject=f"Kenya: {FILE_MARK}",
        body_text=f"{SECRET} {FILE_MARK}",
        body_html=f"<p>{SECRET} {FILE_MARK}</p>",
        review_id=prepared.review.id,
        created_at=prepared.review.created_at,
    )
    db.session.add(prepared.note)
    prepared.api_token, _text = api_tokens.create_token(
        prepared.identities["focal_point"], "Kenya tracker", ["read", "write"], 90
    )
    db.session.commit()
    _prepare_pillar_two(make, db, prepared)
    return prepared


def _prepare_pillar_two(make, db, prepared):
    """Kenya's assistance requests (a draft naming the secret, a shared one with a partner's
    offer turned programme) and an anonymous accepted stakeholder submission (issue 18); the
    identities: a partner and a stakeholder with standing, and one of each with none."""
    from app.models import AssistanceArea, OfferKind, SubmissionStatus
    from app.services import assistance, stakeholders

    review = prepared.review
    fp = prepared.identities["focal_point"]
    partner = make.partner("Engaged Agency")
    stakeholder = make.stakeholder("Kenya Rights Watch")
    prepared.identities.update(
        partner=partner,
        stakeholder=stakeholder,
        outsider_partner=make.partner("Unrelated Foundation"),
        outsider_stakeholder=make.stakeholder("Unrelated Civil Society Group"),
    )
    fields = {
        "state": review.state,
        "review": review,
        "user": fp,
        "area": AssistanceArea.SECURITY_SECTOR_REFORM,
        "purpose_code": "",
        "shared_details": FILE_MARK,
        "section_id": None,
        "recommendation_ids": [],
    }
    prepared.draft_request = assistance.save_request(
        None, title="Unshared", need=f"{SECRET} {FILE_MARK}", **fields
    )
    shared = assistance.save_request(None, title="Shared", need="Training", **fields)
    assistance.share_request(shared, fp)
    prepared.offer = assistance.make_offer(
        shared,
        partner,
        kind=OfferKind.TRAINING,
        description="Training",
        safeguards="",
        amount=None,
        currency="",
        starts_on=date(2028, 1, 1),
        ends_on=date(2028, 6, 30),
    )
    prepared.programme = assistance.decide_offer(prepared.offer, fp, accept=True, reason="")
    status = review.status
    review.status = ReviewStatus.SELF_ASSESSMENT
    section = review.cycle.framework.sections[1]
    prepared.submission = stakeholders.submit(
        review, stakeholder, anonymous=True, texts={section.id: SECRET}
    )
    prepared.submission.status = SubmissionStatus.ACCEPTED
    review.status = status
    db.session.commit()


def _values(rule, prepared, db):
    review = prepared.review
    assignment = db.session.scalar(select(Assignment).where(Assignment.review_id == review.id))
    recommendation = db.session.scalar(
        select(Recommendation).where(Recommendation.review_id == review.id)
    )
    known = {
        "review_id": review.id,
        "assignment_id": assignment.id,
        "cycle_id": review.cycle_id,
        "number": 2,
        "recommendation_id": recommendation.id,
        "user_id": prepared.identities["focal_point"].id,
        "section_id": review.cycle.framework.sections[1].id,
        "draw_id": db.session.scalar(select(Draw.id).where(Draw.review_id == review.id)) or 1,
        "version": 1,
        "state_id": review.state_id,
        "stage": "factual_check",
        "file_id": prepared.file.id,
        "note_id": prepared.note.id,
        "measure_id": prepared.measure.id,
        # issue 18: Kenya's unshared request, a partner's offer and programme on a shared one,
        # and an anonymous organisation's accepted submission
        "request_id": prepared.draft_request.id,
        "offer_id": prepared.offer.id,
        "programme_id": prepared.programme.id,
        "submission_id": prepared.submission.id,
        "token": "not-a-signed-token",  # auth.reset_password: refuses it (404), whoever asks
        "token_id": prepared.api_token.id,  # Kenya's focal point's API token (issue 19)
    }
    values = {}
    for argument in rule.arguments:
        if argument == "event":
            values[argument] = {
                "reviews.fire": "withdraw",
                "evaluation.fire": "withdraw_assignment",
                "admin.cycle_fire": "close_cycle",
            }.get(rule.endpoint, "withdraw")
        elif argument in known:
            values[argument] = known[argument]
        else:
            pytest.fail(f"route {rule.rule} has parameter {argument!r} nobody classified")
    return values


def _walk(app, client, prepared, db, allowed=frozenset(), *, anonymous=False):
    """Call every route with every method; return the number of (route, method) pairs tried.
    ``allowed``: (method, endpoint) pairs that may answer 200."""
    tried = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_TO_SIGNED_IN | PUBLIC:
            continue
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
        if rule.endpoint in FILTERED_TO_SIGNED_IN:
            response = client.get(url)
            tried += 1
            if anonymous:
                assert response.status_code == 302, url
                assert response.headers["Location"].startswith("/login"), url
            else:
                assert response.status_code == 200 and not _leaks(response), url
            continue
        for method in METHODS:
            response = client.open(url, method=method, data={"reason": "x"})
            tried += 1
            where = f"{method} {url} ({rule.endpoint})"
            if (method, rule.endpoint) in allowed:
                expected = allowed[method, rule.endpoint] if isinstance(allowed, dict) else {200}
                assert response.status_code in expected, f"{response.status_code} on {where}"
                assert FILE_MARK not in response.get_data(as_text=True), where
                continue
            if anonymous and response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), where
            elif anonymous and response.status_code == 401:
                pass  # a POST with text: the "you are signed out" page (tests/test_security.py)
            elif rule.rule.startswith("/api/") and response.status_code == 401:
                # the API reads no session cookie: a token only (tests/test_api.py walks tokens)
                assert response.is_json, where
            else:
                assert response.status_code in REFUSED, f"{response.status_code} on {where}"
            assert FILE_MARK not in response.get_data(as_text=True), where
    return tried


@pytest.mark.parametrize(
    "status", [ReviewStatus.SELF_ASSESSMENT, ReviewStatus.FACTUAL_CHECK, ReviewStatus.FOLLOW_UP]
)
@pytest.mark.parametrize(
    "identity",
    [
        "anonymous",
        "other_focal_point",
        "unassigned_reviewer",
        "outsider_partner",
        "outsider_stakeholder",
    ],
)
def test_outsiders_get_nothing_of_another_states_review(app, db, make, login_as, status, identity):
    prepared = _prepare(make, db, status)
    client = app.test_client()
    if identity != "anonymous":
        login_as(prepared.identities[identity], on=client)
    tried = _walk(
        app,
        client,
        prepared,
        db,
        _own_area(identity, status),
        anonymous=identity == "anonymous",
    )
    db.session.expire_all()
    assert prepared.review.status == status
    assert prepared.file.removed_at is None
    assert tried >= 30 * len(METHODS)


GET = {"GET": {200}, "HEAD": {200}}


def _own_area(identity: str, status) -> dict:
    """What an outsider of Kenya's review still reaches (issue 18): a focal point its own
    state's assistance page; a partner the shared requests; a stakeholder its home and, while
    the review takes submissions, the form to write one (a POST without text answers 422)."""
    allowed: dict = {}
    if identity in ("other_focal_point", "outsider_partner"):
        allowed.update({(m, "assistance.index"): codes for m, codes in GET.items()})
    if identity == "outsider_stakeholder":
        allowed.update({(m, "stakeholders.index"): codes for m, codes in GET.items()})
        if status in (ReviewStatus.SELF_ASSESSMENT, ReviewStatus.EVALUATION):
            allowed.update({(m, "stakeholders.submission_new"): codes for m, codes in GET.items()})
            allowed["POST", "stakeholders.submission_new"] = {422}
    return allowed


@pytest.mark.parametrize("status", [ReviewStatus.SELF_ASSESSMENT, ReviewStatus.FOLLOW_UP])
@pytest.mark.parametrize("identity", ["partner", "stakeholder"])
def test_partner_and_stakeholder_with_standing_reach_only_their_own(
    app, db, make, login_as, status, identity
):
    """The engaged partner reaches its programme and Kenya's coordination page, never the
    review, the self-assessment or the unshared request; the stakeholder its own submission,
    never anything else of the review (DESIGN §5)."""
    prepared = _prepare(make, db, status)
    client = login_as(prepared.identities[identity], on=app.test_client())
    if identity == "partner":
        allowed = {
            **{(m, e): c for m, c in GET.items() for e in ("assistance.index",)},
            **{(m, "assistance.programme_show"): c for m, c in GET.items()},
            **{(m, "assistance.coordination"): c for m, c in GET.items()},
            # the walk completes the programme on the way: before, a note ("reason" is not a
            # note's body: 422) and completing are open; after, only the evaluation (422: empty)
            ("POST", "assistance.programme_note"): {422, 403},
            ("POST", "assistance.programme_complete"): {302, 403},
            ("POST", "assistance.programme_evaluate"): {422, 403},
        }
    else:
        allowed = {
            **_own_area("outsider_stakeholder", status),
            **{(m, "stakeholders.submission_show"): c for m, c in GET.items()},
        }
    tried = _walk(app, client, prepared, db, allowed)
    assert tried >= 30 * len(METHODS)


#: What a reviewer on the review but not on the team may still reach (DESIGN §5): an invited one,
#: the review's summary page (state, cycle, deadlines) to decide; a withdrawn one, nothing.
ON_REVIEW_BUT_NOT_TEAM = {
    "invited": {("GET", "reviews.show"), ("HEAD", "reviews.show")},
    "withdrawn": set(),
    "declined": set(),
    "conflicted": set(),
}


@pytest.mark.parametrize("status", [ReviewStatus.PEER_ASSIGNMENT, ReviewStatus.EVALUATION])
@pytest.mark.parametrize("assignment_status", list(ON_REVIEW_BUT_NOT_TEAM))
def test_reviewers_off_the_team_see_only_what_design_allows(
    app, db, make, login_as, status, assignment_status
):
    prepared = _prepare(make, db, status)
    outsider = prepared.identities["unassigned_reviewer"]
    own = make.assignment(
        prepared.review,
        outsider,
        status=AssignmentStatus(assignment_status),
        actor=prepared.identities["secretariat"],
    )
    client = login_as(outsider, on=app.test_client())
    tried = _walk(app, client, prepared, db, ON_REVIEW_BUT_NOT_TEAM[assignment_status])
    assert tried >= 30 * len(METHODS)
    summary = client.get(f"/reviews/{prepared.review.id}")
    if assignment_status == "invited":
        page = summary.get_data(as_text=True)
        assert "Kenya" in page and "Deadlines" in page
        for hidden in ("/self-assessment", "/report", "Review team", "History", FILE_MARK):
            assert hidden not in page, hidden
        assert client.get(f"/assignments/{own.id}").status_code == 200
    else:
        assert client.get(f"/assignments/{own.id}").status_code == 404


def test_the_team_and_the_state_do_get_the_file(app, db, make, login_as):
    """The walk's refusals are not a broken route: those DESIGN §5 allows are served."""
    prepared = _prepare(make, db, ReviewStatus.EVALUATION)
    url = f"/reviews/{prepared.review.id}/self-assessment/files/{prepared.file.id}"
    for identity in ("focal_point", "lead_reviewer", "member_reviewer", "secretariat"):
        client = login_as(prepared.identities[identity], on=app.test_client())
        assert client.get(url).status_code == 200, identity


@pytest.mark.parametrize("identity", [None, "other_focal_point", "unassigned_reviewer"])
@pytest.mark.parametrize("status", [ReviewStatus.FACTUAL_CHECK, ReviewStatus.FOLLOW_UP])
def test_public_pages_show_nothing_unconsented(app, db, make, login_as, status, identity):
    """Kenya's review, adopted or not but never consented to publication: every public route
    (anonymous or signed in) answers 404 on its own pages, 405 to a POST, and lists nothing of
    it (report text, recommendation, good practice, mid-term report, evidence file)."""
    from app.models import MidtermReport, Report

    prepared = _prepare(make, db, status)
    review = prepared.review
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    report.adopted_at = review.created_at if status == ReviewStatus.FOLLOW_UP else None
    report.executive_summary = "Secret executive summary."
    report.sections[1].good_practices = "Secret good practice."
    db.session.add(
        MidtermReport(
            review_id=review.id,
            version=1,
            content={"sections": [], "recommendations": [], "totals": {}},
            created_by_id=prepared.identities["secretariat"].id,
            published_at=review.created_at,
        )
    )
    db.session.commit()
    client = app.test_client()
    if identity:
        login_as(prepared.identities[identity], on=client)
    walked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in PUBLIC:
            continue
        walked.add(rule.endpoint)
        url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
        assert client.post(url).status_code in REFUSED, url
        response = client.get(url)
        if rule.arguments:
            assert response.status_code == 404, url
            continue
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        for secret in ("Kenya", "Secret executive", "police complaints", "Secret good", FILE_MARK):
            assert secret not in page, (url, secret)
    assert walked == PUBLIC


#: Issue 14's routes, by who asks: (method, path template, {identity: expected status}). The
#: admin ones are walked above too (refused to every outsider); these rows also pin what the
#: secretariat and anonymous visitors get. ``{other}``: another account (a focal point, enrolled).
SECURITY_ROUTES = [
    ("GET", "/admin/audit", {"secretariat": 200, "focal_point": 403, "member_reviewer": 403}),
    ("GET", "/admin/audit.csv", {"secretariat": 200, "focal_point": 403, "member_reviewer": 403}),
    ("GET", "/admin/two-factor", {"secretariat": 200, "focal_point": 403, "member_reviewer": 403}),
    ("POST", "/admin/two-factor", {"secretariat": 302, "focal_point": 403, "member_reviewer": 403}),
    (
        "POST",
        "/admin/users/{other}/two-factor/reset",
        {"secretariat": 302, "focal_point": 403, "member_reviewer": 403},
    ),
    (
        "GET",
        "/account/two-factor",
        {"secretariat": 200, "focal_point": 200, "member_reviewer": 200},
    ),
    ("GET", "/healthz", {"secretariat": 200, "focal_point": 200, "member_reviewer": 200}),
]


@pytest.mark.parametrize("identity", ["secretariat", "focal_point", "member_reviewer", None])
def test_account_security_routes_by_role(app, db, make, login_as, identity):
    from app.services import two_factor

    prepared = _prepare(make, db, ReviewStatus.EVALUATION)
    other = prepared.identities["other_focal_point"]
    client = app.test_client()
    if identity:
        login_as(prepared.identities[identity], on=client)
    for method, template, expected in SECURITY_ROUTES:
        two_factor.enrol_with_secret(other, "JBSWY3DPEHPK3PXP")  # something to reset each time
        db.session.commit()
        url = template.format(other=other.id)
        response = client.open(url, method=method, data={"reason": "lost phone"})
        if identity is None:
            if url == "/healthz":
                assert response.status_code == 200
            elif method == "POST":  # the "you are signed out" page (tests/test_security.py)
                assert response.status_code == 401, url
            else:
                assert response.status_code == 302, url
                assert response.headers["Location"].startswith("/login"), url
            continue
        assert response.status_code == expected[identity], (method, url, identity)
    # the second step of signing in without a pending password step: back to the sign-in page
    answer = app.test_client().get("/login/code")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
