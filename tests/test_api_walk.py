"""Walk every token route of the API × role × token scope (issue 19; DESIGN §5, §12: "an API
token acts as its user through the same rules; scopes can only narrow them").

Kenya's review is in follow-up. Each identity of `prepared_review` gets a read token, a write
token and a read+write token and calls every ``/api/v1`` route that needs a token with every
method. The expected answer of each (route, method) comes from the pages' rules: 200/201 where
the user may read or write, 404 for objects the user may not know, 403 for a known object the
user may not change or a scope the token lacks, 405 for a method the route does not have. A
revoked or expired token gets 401 everywhere. A route nobody classified here fails the walk.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Recommendation
from app.services import api_tokens, clock
from tests.factories import prepared_review
from workflows import ReviewStatus

SECRET = "independent police complaints authority"
IDENTITIES = (
    "secretariat",
    "focal_point",
    "other_focal_point",
    "lead_reviewer",
    "member_reviewer",
    "unassigned_reviewer",
)
SCOPES = {"read": ["read"], "write": ["write"], "both": ["read", "write"]}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Who may read Kenya's review in follow-up (review.view / recommendations.view): the
#: secretariat, Kenya's focal point, the lead and the member who submitted their evaluation.
SEES_KENYA = {"secretariat", "focal_point", "lead_reviewer", "member_reviewer"}

#: endpoint → {method: rule} where rule(identity) is the status a token with the right scope gets.
EXPECTED = {
    "api.me": {"GET": lambda who: 200},
    "api.reviews": {"GET": lambda who: 200},
    "api.review": {"GET": lambda who: 200 if who in SEES_KENYA else 404},
    "api.recommendations": {"GET": lambda who: 200 if who in SEES_KENYA else 404},
    "api.recommendation": {"GET": lambda who: 200 if who in SEES_KENYA else 404},
    "api.post_progress": {
        "POST": lambda who: 201 if who == "focal_point" else 403 if who in SEES_KENYA else 404
    },
    "api.cycles": {"GET": lambda who: 200 if who == "secretariat" else 403},
    "api.cycle_dashboard": {"GET": lambda who: 200 if who == "secretariat" else 403},
}
#: API routes that need no token (tests/test_api.py and the public walk of test_access_walk.py).
NO_TOKEN = {"api-docs.openapi_json", "api_docs.index"}


def _url(rule, prepared, recommendation_id) -> str:
    values = {
        "review_id": prepared.review.id,
        "recommendation_id": recommendation_id,
        "cycle_id": prepared.review.cycle_id,
    }
    return rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]


def _api_rules(app):
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/")
        and r.endpoint not in NO_TOKEN
        and not r.endpoint.startswith("api_public.")
    ]
    unclassified = {r.endpoint for r in rules} - set(EXPECTED)
    assert not unclassified, f"API routes nobody classified: {unclassified}"
    return rules


def _expected(endpoint: str, method: str, who: str, scope: str) -> int:
    rule = EXPECTED[endpoint].get(method)
    if rule is None:
        return 405
    needed = "read" if method == "GET" else "write"
    if needed not in SCOPES[scope]:
        return 403
    return rule(who)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_api_route_answers_each_role_and_scope_as_the_pages_rules_say(
    app, db, make, identity
):
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.FOLLOW_UP
    db.session.commit()
    recommendation_id = db.session.scalar(
        select(Recommendation.id).where(Recommendation.review_id == prepared.review.id)
    )
    user = prepared.identities[identity]
    tokens = {}
    for scope, scopes in SCOPES.items():
        _row, tokens[scope] = api_tokens.create_token(user, scope, scopes, 30)
    db.session.commit()
    client = app.test_client()
    tried = 0
    for rule in _api_rules(app):
        url = _url(rule, prepared, recommendation_id)
        for scope, text in tokens.items():
            for method in METHODS:
                # a fresh version each time: a refused stale write is tested in test_api.py
                version = client.get(
                    f"/api/v1/reviews/{prepared.review.id}/recommendations/{recommendation_id}",
                    headers={"Authorization": f"Bearer {tokens['both']}"},
                )
                base = version.get_json().get("progress_version", "0") if version.is_json else "0"
                response = client.open(
                    url,
                    method=method,
                    headers={"Authorization": f"Bearer {text}"},
                    json={
                        "status": "in_progress",
                        "narrative": f"Walk {rule.endpoint} {scope} {method} {tried}",
                        "base_version": base,
                    },
                )
                tried += 1
                where = f"{identity} {scope} {method} {url}"
                assert response.is_json, where
                expected = _expected(rule.endpoint, method, identity, scope)
                assert response.status_code == expected, (where, response.get_json())
                if expected >= 400:
                    assert set(response.get_json()) == {"code", "message", "errors"}, where
                if identity not in SEES_KENYA:
                    assert SECRET not in response.get_data(as_text=True), where
    assert tried == len(EXPECTED) * len(SCOPES) * len(METHODS)


@pytest.mark.parametrize("how", ["revoked", "expired", "user_deactivated", "garbled"])
def test_an_unusable_token_is_refused_on_every_api_route(app, db, make, how):
    prepared = prepared_review(make)
    user = prepared.identities["secretariat"]
    row, text = api_tokens.create_token(user, "x", ["read", "write"], 30)
    db.session.commit()
    if how == "revoked":
        api_tokens.revoke_token(row, user)
    elif how == "expired":
        app.config["PILLARS_FROZEN_NOW"] = clock.now() + timedelta(days=31)
    elif how == "user_deactivated":
        user.active = False
    else:
        text = text[:-2] + "xx"
    db.session.commit()
    client = app.test_client()
    for rule in _api_rules(app):
        url = _url(rule, prepared, 1)
        for method in EXPECTED[rule.endpoint]:
            response = client.open(url, method=method, headers={"Authorization": f"Bearer {text}"})
            assert response.status_code == 401, (how, method, url)
            assert response.get_json()["code"] == "unauthorized"
