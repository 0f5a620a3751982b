"""The current rows of histories (issue 20): every way a progress update, an assessment or a
publication consent is written keeps the recommendation's latest progress and assessment and the
review's current consent right, and migration 0009's backfill computes them from the histories
with the same rule ("latest": newest instant, ties to the higher id)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update

from app.models import (
    Assessment,
    AssessmentStatus,
    ProgressStatus,
    ProgressUpdate,
    PublicationConsent,
    Recommendation,
    Review,
    current,
)
from app.services import follow_up
from app.services.latest import latest_per_recommendation
from tests.factories import prepared_review
from tests.test_publication import _adopt, _consent

T0 = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)


@pytest.fixture
def kenya(make, db):
    """Kenya's prepared review (a recommendation with a response and an assessment), adopted."""
    prepared = prepared_review(make)
    _adopt(db, prepared.review)
    return prepared


def _recommendation(db, review) -> Recommendation:
    return db.session.scalars(
        select(Recommendation).where(Recommendation.review_id == review.id)
    ).first()


def _stored(db, rec_id: int) -> tuple:
    """The current-row columns as stored in the database (not the session's copy)."""
    db.session.expire_all()
    row = db.session.execute(
        select(
            Recommendation.latest_progress_status,
            Recommendation.latest_progress_at,
            Recommendation.latest_assessment_status,
            Recommendation.latest_assessment_at,
        ).where(Recommendation.id == rec_id)
    ).one()
    return tuple(row)


def _from_histories(db, rec_id: int) -> tuple:
    """What the histories say, by `app.services.latest`'s rule."""
    progress = latest_per_recommendation(ProgressUpdate)
    assessment = latest_per_recommendation(Assessment)
    row = db.session.execute(
        select(progress.c.status, progress.c.created_at)
        .select_from(Recommendation)
        .outerjoin(progress, progress.c.recommendation_id == Recommendation.id)
        .where(Recommendation.id == rec_id)
    ).one()
    row2 = db.session.execute(
        select(assessment.c.status, assessment.c.created_at)
        .select_from(Recommendation)
        .outerjoin(assessment, assessment.c.recommendation_id == Recommendation.id)
        .where(Recommendation.id == rec_id)
    ).one()

    def value(member):
        return None if member is None else str(getattr(member, "value", member))

    return (value(row[0]), row[1], value(row2[0]), row2[1])


def test_the_follow_up_services_keep_the_latest_progress_and_assessment(db, kenya, frozen_now):
    rec = _recommendation(db, kenya.review)
    fp, secretariat = kenya.identities["focal_point"], kenya.identities["secretariat"]
    frozen_now(T0)
    follow_up.post_progress(rec, "in_progress", "Drafting the law.", fp)
    frozen_now(T0 + timedelta(days=90))
    follow_up.post_progress(rec, "completed", "Law adopted.", fp)
    follow_up.post_assessment(rec, "implemented", "Checked.", secretariat)
    db.session.commit()

    assert _stored(db, rec.id) == (
        "completed",
        T0 + timedelta(days=90),
        "implemented",
        T0 + timedelta(days=90),
    )
    assert _stored(db, rec.id) == _from_histories(db, rec.id)
    # the object in the session reads the new values too
    assert rec.latest_assessment_status == "implemented"


def test_a_row_dated_before_the_current_one_does_not_replace_it_and_ties_go_to_the_later_row(
    db, kenya
):
    rec = _recommendation(db, kenya.review)
    author = kenya.identities["secretariat"]
    db.session.add(
        Assessment(
            recommendation_id=rec.id,
            status=AssessmentStatus.NOT_IMPLEMENTED,
            author_id=author.id,
            created_at=T0 + timedelta(days=400),
        )
    )
    db.session.commit()
    db.session.add(  # written later, dated earlier (an import of old assessments, say)
        Assessment(
            recommendation_id=rec.id,
            status=AssessmentStatus.NO_LONGER_APPLICABLE,
            author_id=author.id,
            created_at=T0,
        )
    )
    db.session.commit()
    assert _stored(db, rec.id)[2:] == ("not_implemented", T0 + timedelta(days=400))

    db.session.add(  # the same instant as the current one: the higher id is the latest
        Assessment(
            recommendation_id=rec.id,
            status=AssessmentStatus.PARTIALLY_IMPLEMENTED,
            author_id=author.id,
            created_at=T0 + timedelta(days=400),
        )
    )
    db.session.commit()
    assert _stored(db, rec.id)[2:] == ("partially_implemented", T0 + timedelta(days=400))
    assert _stored(db, rec.id) == _from_histories(db, rec.id)


def test_several_rows_in_one_flush_leave_the_newest_current(db, kenya):
    rec = _recommendation(db, kenya.review)
    fp = kenya.identities["focal_point"]
    db.session.add_all(
        [
            ProgressUpdate(
                recommendation_id=rec.id,
                status=status,
                narrative=str(days),
                author_id=fp.id,
                created_at=T0 + timedelta(days=days),
            )
            for days, status in (
                (20, ProgressStatus.COMPLETED),
                (5, ProgressStatus.NOT_STARTED),
                (10, ProgressStatus.IN_PROGRESS),
            )
        ]
    )
    db.session.commit()
    assert _stored(db, rec.id)[:2] == ("completed", T0 + timedelta(days=20))


def test_consent_given_through_the_page_is_the_reviews_current_level(app, db, kenya, login_as):
    review = kenya.review
    client = login_as(kenya.identities["focal_point"], on=app.test_client())
    levels = []
    for level in ("summary", "full", "none"):
        assert _consent(client, review, level).status_code == 302
        levels.append(
            db.session.scalar(select(Review.publication_level).where(Review.id == review.id))
        )
        db.session.expire_all()
    assert levels == ["summary", "full", "none"]


def test_refresh_recomputes_after_bulk_inserts(db, kenya):
    rec = _recommendation(db, kenya.review)
    author = kenya.identities["secretariat"]
    # Core inserts bypass the session's listener, as the benchmark data's do
    db.session.execute(
        insert(Assessment),
        [
            {
                "recommendation_id": rec.id,
                "status": AssessmentStatus.NOT_IMPLEMENTED,
                "author_id": author.id,
                "created_at": T0 + timedelta(days=800),
            }
        ],
    )
    db.session.execute(
        insert(PublicationConsent),
        [
            {
                "review_id": kenya.review.id,
                "level": "summary",
                "author_id": author.id,
                "created_at": T0,
            }
        ],
    )
    current.refresh(db.session)
    db.session.commit()
    assert _stored(db, rec.id)[2:] == ("not_implemented", T0 + timedelta(days=800))
    assert (
        db.session.scalar(select(Review.publication_level).where(Review.id == kenya.review.id))
        == "summary"
    )


def _migration():
    path = Path(__file__).parent.parent / "migrations" / "versions" / "0013_current_rows.py"
    spec = importlib.util.spec_from_file_location("migration_0009", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_backfill_sets_the_columns_from_the_histories(db, kenya):
    rec = _recommendation(db, kenya.review)
    fp = kenya.identities["focal_point"]
    db.session.add_all(
        [
            ProgressUpdate(
                recommendation_id=rec.id,
                status=ProgressStatus.IN_PROGRESS,
                narrative="x",
                author_id=fp.id,
                created_at=T0,
            ),
            PublicationConsent(
                review_id=kenya.review.id, level="full", author_id=fp.id, created_at=T0
            ),
            PublicationConsent(
                review_id=kenya.review.id,
                level="summary",
                author_id=fp.id,
                created_at=T0 + timedelta(days=1),
            ),
        ]
    )
    db.session.commit()
    expected = _stored(db, rec.id)
    assert expected[0] == "in_progress" and expected[2] is not None  # prepared_review's
    # as a database migrated from 0008 holds them: histories, no current rows
    db.session.execute(
        update(Recommendation).values(
            latest_progress_status=None,
            latest_progress_at=None,
            latest_assessment_status=None,
            latest_assessment_at=None,
        )
    )
    db.session.execute(update(Review).values(publication_level="none"))
    migration = _migration()
    db.session.execute(text(migration.BACKFILL_RECOMMENDATIONS))
    db.session.execute(text(migration.BACKFILL_REVIEWS))
    db.session.commit()

    assert _stored(db, rec.id) == expected == _from_histories(db, rec.id)
    assert (
        db.session.scalar(select(Review.publication_level).where(Review.id == kenya.review.id))
        == "summary"
    )
