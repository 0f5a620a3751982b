"""Property-based test of the whole API against its own OpenAPI document (issue 19): Schemathesis
generates requests for every operation from the generated ``/api/v1/openapi.json`` and checks
that no answer is a server error and none falls outside the document (status, content type,
body shape). Bounded: a fixed number of examples per run, derandomized, no shrinking deadline."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import select

from app.models import ConsentLevel, PublicationConsent, Report
from app.services import api_tokens, clock
from tests.factories import prepared_review
from workflows import ReviewStatus

#: Examples per run: enough to reach every operation several times, a few seconds in all.
EXAMPLES = 120


@pytest.fixture
def published(make, db):
    """Kenya's review in follow-up, adopted and published in full (so public answers have rows)."""
    prepared = prepared_review(make)
    prepared.review.status = ReviewStatus.FOLLOW_UP
    report = db.session.scalar(select(Report).where(Report.review_id == prepared.review.id))
    report.adopted_at = clock.now()
    db.session.add(
        PublicationConsent(
            review_id=prepared.review.id,
            level=ConsentLevel.FULL,
            author_id=prepared.identities["focal_point"].id,
            created_at=clock.now(),
        )
    )
    db.session.commit()
    return prepared


@pytest.mark.parametrize("identity", ["focal_point", "secretariat"])
def test_the_api_answers_within_its_own_openapi_document(app, db, published, identity):
    app.config["PROPAGATE_UNEXPECTED"] = False  # a 500 must be seen as a 500, not raised
    _row, token = api_tokens.create_token(
        published.identities[identity], "schemathesis", ["read", "write"], 30
    )
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @given(case=schema.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # on the case itself, so that Schemathesis also replays it without the token (401)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate()

    check()
