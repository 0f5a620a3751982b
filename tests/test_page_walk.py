"""Every page, in every review status, for every kind of user: it renders or refuses, never 500.

Complements the access walk (tests/test_access_walk.py), which checks that outsiders get
nothing: here insiders walk every GET route and the app must answer 200, 302, 403 or 404.
"""

from __future__ import annotations

import pytest

from tests.test_access_walk import _prepare, _values
from workflows import ReviewStatus

IDENTITIES = [
    "secretariat",
    "focal_point",
    "lead_reviewer",
    "member_reviewer",
    "partner",  # issue 18: engaged with Kenya (an offer turned programme)
    "stakeholder",  # issue 18: author of an anonymous accepted submission on Kenya
]


@pytest.mark.parametrize("status", list(ReviewStatus))
def test_every_page_renders_or_refuses_in_every_status(app, db, make, login_as, status):
    prepared = _prepare(make, db, status)  # with an evidence file
    seen_ok = 0
    for identity in IDENTITIES:
        client = login_as(prepared.identities[identity], on=app.test_client())
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            url = rule.build(_values(rule, prepared, db), append_unknown=False)[1]
            response = client.get(url)
            if rule.rule.startswith("/api/") and response.status_code == 401:
                continue  # the API reads tokens, not sessions (tests/test_api_walk.py)
            assert response.status_code in (200, 302, 403, 404), (identity, url)
            seen_ok += response.status_code == 200
    assert seen_ok > 20
