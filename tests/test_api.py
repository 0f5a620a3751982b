"""The JSON API (issue 19; DESIGN §12): public data without sign-in under the same consent rules
as the public pages; personal access tokens acting as their user through app/access.py; progress
posted by a national tracking system appearing on the follow-up page; JSON errors; the
walk of every token route × role × scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import ApiToken, ConsentLevel, ProgressUpdate, PublicationConsent, Report
from app.services import api_tokens, clock
from tests.factories import prepared_review
from workflows import ReviewStatus

REC_TEXT = "independent police complaints authority"


def _publish(db, prepared, level=ConsentLevel.FULL, status=ReviewStatus.FOLLOW_UP):
    review = prepared.review
    review.status = status
    report = db.session.scalar(select(Report).where(Report.review_id == review.id))
    report.adopted_at = clock.now()
    if level is not None:
        db.session.add(
            PublicationConsent(
                review_id=review.id,
                level=level,
                author_id=prepared.identities["focal_point"].id,
                created_at=clock.now(),
            )
        )
    db.session.commit()


def _token(db, user, scopes=("read", "write")) -> str:
    _row, text = api_tokens.create_token(user, "sync", list(scopes), 90)
    db.session.commit()
    return text


def _auth(text: str) -> dict:
    return {"Authorization": f"Bearer {text}"}


@pytest.fixture
def kenya(make, db):
    return prepared_review(make)


# --- public ------------------------------------------------------------------------------------


def test_anyone_fetches_published_recommendations_as_json(client, db, kenya):
    _publish(db, kenya)
    answer = client.get("/api/v1/public/recommendations?state=KEN")
    assert answer.status_code == 200 and answer.is_json
    body = answer.get_json()
    assert body["total"] == 1 and body["page"] == 1
    item = body["items"][0]
    assert REC_TEXT in item["text"] and item["state_code"] == "KEN"
    assert item["position"] == "supported"  # full consent: the state's response is public
    report = client.get(f"/api/v1/public/reports/{kenya.review.id}").get_json()
    assert report["state"] == "Kenya" and report["sections"] and report["comments"]
    listed = client.get("/api/v1/public/reports").get_json()
    assert [r["review_id"] for r in listed["items"]] == [kenya.review.id]


def test_a_summary_consent_publishes_recommendations_without_responses(client, db, kenya):
    _publish(db, kenya, ConsentLevel.SUMMARY)
    item = client.get("/api/v1/public/recommendations").get_json()["items"][0]
    assert item["position"] is None and item["status"] is None
    report = client.get(f"/api/v1/public/reports/{kenya.review.id}").get_json()
    assert report["sections"] == [] and report["comments"] == []


@pytest.mark.parametrize("level", [None, ConsentLevel.NONE])
def test_public_api_shows_nothing_unconsented(client, db, kenya, level):
    _publish(db, kenya, level)
    assert client.get("/api/v1/public/recommendations").get_json()["total"] == 0
    assert client.get("/api/v1/public/reports").get_json()["items"] == []
    assert client.get(f"/api/v1/public/reports/{kenya.review.id}").status_code == 404
    assert client.get("/api/v1/public/good-practices").get_json()["items"] == []


def test_public_filters_refuse_invalid_values_and_match_nothing_for_unknown_codes(
    client, db, kenya
):
    _publish(db, kenya)
    answer = client.get("/api/v1/public/recommendations?state=ZZZ&category=9&per_page=500")
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["code"] == "validation_error"
    assert {"category", "per_page"} <= set(body["errors"])
    unknown = client.get("/api/v1/public/recommendations?state=ZZZ").get_json()
    assert unknown["total"] == 0 and unknown["items"] == []


def test_pagination_pages_through_published_recommendations(client, db, kenya):
    _publish(db, kenya)
    assert client.get("/api/v1/public/recommendations?per_page=1&page=2").get_json()["items"] == []


# --- tokens on the account page ----------------------------------------------------------------


def test_a_token_is_shown_once_stored_hashed_and_its_last_use_shown(client, db, kenya, login_as):
    user = kenya.identities["focal_point"]
    login_as(user)
    page = client.post(
        "/account/tokens/", data={"name": "National tracker", "scopes": ["read"], "days": "90"}
    )
    assert page.status_code == 200
    text = re.search(r"pil_[A-Za-z0-9_\-]{20,}", page.get_data(as_text=True)).group(0)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash != text and text not in row.token_hash and row.scopes == "read"
    again = client.get("/account/tokens/").get_data(as_text=True)
    assert text not in again and "National tracker" in again and "Never" in again
    assert client.get("/api/v1/me", headers=_auth(text)).get_json()["role"] == "focal_point"
    assert "Never" not in client.get("/account/tokens/").get_data(as_text=True)


def test_a_token_needs_a_name_and_a_scope(client, db, kenya, login_as):
    login_as(kenya.identities["focal_point"])
    page = client.post("/account/tokens/", data={"name": "", "days": "90"})
    assert page.status_code == 422
    assert "Give the token a name." in page.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_creating_and_revoking_a_token_is_in_the_account_audit_log(client, db, kenya, login_as):
    from app.models import AccountEvent

    user = kenya.identities["focal_point"]
    text = _token(db, user, scopes=("read",))
    login_as(user)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    db.session.expire_all()
    events = db.session.scalars(
        select(AccountEvent)
        .where(AccountEvent.subject_id == user.id, AccountEvent.kind.like("api_token%"))
        .order_by(AccountEvent.id)
    ).all()
    assert [e.kind for e in events] == ["api_token_created", "api_token_revoked"]
    assert events[0].detail["scopes"] == ["read"] and events[0].detail["name"] == "sync"
    assert text not in str(events[0].detail)


def test_revoked_and_expired_tokens_are_refused(app, client, db, kenya, login_as):
    user = kenya.identities["focal_point"]
    text = _token(db, user)
    assert client.get("/api/v1/reviews", headers=_auth(text)).status_code == 200
    login_as(user)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    refused = client.get("/api/v1/reviews", headers=_auth(text))
    assert refused.status_code == 401 and refused.get_json()["code"] == "unauthorized"
    expiring = _token(db, user)
    app.config["PILLARS_FROZEN_NOW"] = clock.now() + timedelta(days=91)
    assert client.get("/api/v1/reviews", headers=_auth(expiring)).status_code == 401


def test_nobody_revokes_another_persons_token(client, db, kenya, login_as):
    row, _text = api_tokens.create_token(kenya.identities["focal_point"], "x", ["read"], 30)
    db.session.commit()
    login_as(kenya.identities["secretariat"])
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    db.session.expire_all()
    assert row.revoked_at is None


# --- the national tracking system ---------------------------------------------------------------


def test_a_focal_points_token_reads_its_state_and_posts_progress_seen_on_the_follow_up_page(
    client, db, kenya, login_as
):
    kenya.review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    text = _token(db, kenya.identities["focal_point"])
    reviews = client.get("/api/v1/reviews", headers=_auth(text)).get_json()
    assert [r["state_code"] for r in reviews["items"]] == ["KEN"]
    recs = client.get(
        f"/api/v1/reviews/{kenya.review.id}/recommendations", headers=_auth(text)
    ).get_json()["items"]
    rec = recs[0]
    assert REC_TEXT in rec["text"] and rec["response"]["position"] == "supported"
    url = f"/api/v1/reviews/{kenya.review.id}/recommendations/{rec['id']}/progress"
    posted = client.post(
        url,
        json={
            "status": "in_progress",
            "narrative": "Bill tabled in parliament on 3 March.",
            "base_version": rec["progress_version"],
        },
        headers=_auth(text),
    )
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["status"] == "in_progress"
    stale = client.post(
        url,
        json={"status": "completed", "narrative": "Law adopted.", "base_version": "0"},
        headers=_auth(text),
    )
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"
    assert (
        db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.narrative == "Law adopted."))
        is None
    )
    login_as(kenya.identities["focal_point"])
    page = client.get(f"/reviews/{kenya.review.id}/follow-up").get_data(as_text=True)
    assert "Bill tabled in parliament on 3 March." in page


def test_a_progress_post_is_validated_like_the_form(client, db, kenya):
    kenya.review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    text = _token(db, kenya.identities["focal_point"])
    rec = kenya.review.id
    rid = client.get(f"/api/v1/reviews/{rec}/recommendations", headers=_auth(text)).get_json()[
        "items"
    ][0]["id"]
    url = f"/api/v1/reviews/{rec}/recommendations/{rid}/progress"
    bad = client.post(
        url, json={"status": "done", "narrative": "", "base_version": "0"}, headers=_auth(text)
    )
    assert bad.status_code == 422
    assert {"status", "narrative"} <= set(bad.get_json()["errors"])
    blank = client.post(
        url,
        json={"status": "completed", "narrative": "   ", "base_version": "0"},
        headers=_auth(text),
    )
    assert blank.status_code == 422 and blank.get_json()["errors"]["narrative"]
    assert db.session.scalar(select(ProgressUpdate)) is None


# --- errors --------------------------------------------------------------------------------------


def test_api_errors_are_json_never_html(client):
    for method, url, status in (
        ("GET", "/api/v1/reviews", 401),
        ("GET", "/api/v1/nowhere", 404),
        ("DELETE", "/api/v1/public/reports", 405),
        ("POST", "/api/v1/reviews/1/recommendations/1/progress", 401),
    ):
        answer = client.open(url, method=method)
        assert answer.status_code == status and answer.is_json, url
        assert set(answer.get_json()) == {"code", "message", "errors"}
    assert client.get("/nowhere").mimetype == "text/html"


def test_an_unexpected_error_in_the_api_is_json(app, client, monkeypatch):
    from app.services import publication

    app.config["PROPAGATE_UNEXPECTED"] = False

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(publication, "published_index", broken)
    answer = client.get("/api/v1/public/reports")
    assert answer.status_code == 500 and answer.get_json()["code"] == "server_error"


def test_calls_are_rate_limited_per_token(template_db):
    from app import create_app
    from app.extensions import db as _db
    from config import TestConfig
    from tests.factories import Factories

    config = type(
        "Config",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": template_db(),
            "RATELIMIT_ENABLED": True,
            "API_RATE_LIMIT": "3 per minute",
        },
    )
    app = create_app(config)
    with app.app_context():
        make = Factories(_db)
        first = _token(_db, make.focal_point("KEN"))
        second = _token(_db, make.secretariat())
        client = app.test_client()
        codes = [client.get("/api/v1/me", headers=_auth(first)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.get("/api/v1/me", headers=_auth(first))
        assert limited.is_json and limited.get_json()["code"] == "rate_limited"
        assert client.get("/api/v1/me", headers=_auth(second)).status_code == 200
        _db.session.remove()
        _db.engine.dispose()


def test_csrf_guards_the_forms_but_not_token_calls(app, client, db, kenya, login_as):
    kenya.review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    text = _token(db, kenya.identities["focal_point"])
    login_as(kenya.identities["focal_point"])
    app.config["WTF_CSRF_ENABLED"] = True
    rec = client.get(
        f"/api/v1/reviews/{kenya.review.id}/recommendations", headers=_auth(text)
    ).get_json()["items"][0]
    posted = client.post(
        f"/api/v1/reviews/{kenya.review.id}/recommendations/{rec['id']}/progress",
        json={"status": "in_progress", "narrative": "Started.", "base_version": "0"},
        headers=_auth(text),
    )
    assert posted.status_code == 201
    form = client.post("/account/tokens/", data={"name": "x", "scopes": ["read"], "days": "30"})
    assert form.status_code == 400


def test_the_openapi_document_and_docs_page_are_served_without_outside_assets(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert (
        "/api/v1/reviews/{review_id}/recommendations/{recommendation_id}/progress" in spec["paths"]
    )
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    asset = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()
