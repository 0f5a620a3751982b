"""current rows: each recommendation's latest progress and assessment, each review's consent

Issue 20: the dashboard, the exports and the public pages read these columns instead of searching
every cycle's history (app/services/current.py keeps them where the histories are written). The
backfill sets them from the histories with the rule of app/services/latest.py (newest created_at,
ties: the higher id); the downgrade drops them (the histories are untouched).

Revision ID: 0013_current_rows
Revises: 0012_draw_record
Create Date: 2026-12-06 03:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_current_rows"
down_revision = "0012_draw_record"
branch_labels = None
depends_on = None

BACKFILL_RECOMMENDATIONS = """
UPDATE recommendation SET
    latest_progress_status = (
        SELECT CAST(p.status AS VARCHAR(32)) FROM progress_update p
        WHERE p.recommendation_id = recommendation.id
        ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
    latest_progress_at = (
        SELECT p.created_at FROM progress_update p
        WHERE p.recommendation_id = recommendation.id
        ORDER BY p.created_at DESC, p.id DESC LIMIT 1),
    latest_assessment_status = (
        SELECT CAST(a.status AS VARCHAR(32)) FROM assessment a
        WHERE a.recommendation_id = recommendation.id
        ORDER BY a.created_at DESC, a.id DESC LIMIT 1),
    latest_assessment_at = (
        SELECT a.created_at FROM assessment a
        WHERE a.recommendation_id = recommendation.id
        ORDER BY a.created_at DESC, a.id DESC LIMIT 1)
"""
BACKFILL_REVIEWS = """
UPDATE review SET publication_level = COALESCE((
    SELECT CAST(c.level AS VARCHAR(16)) FROM publication_consent c
    WHERE c.review_id = review.id
    ORDER BY c.created_at DESC, c.id DESC LIMIT 1), 'none')
"""


def upgrade():
    with op.batch_alter_table("recommendation") as batch:
        batch.add_column(sa.Column("latest_progress_status", sa.String(32), nullable=True))
        batch.add_column(sa.Column("latest_progress_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("latest_assessment_status", sa.String(32), nullable=True))
        batch.add_column(sa.Column("latest_assessment_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("review") as batch:
        batch.add_column(
            sa.Column("publication_level", sa.String(16), nullable=False, server_default="none")
        )
    op.execute(BACKFILL_RECOMMENDATIONS)
    op.execute(BACKFILL_REVIEWS)


def downgrade():
    with op.batch_alter_table("review") as batch:
        batch.drop_column("publication_level")
    with op.batch_alter_table("recommendation") as batch:
        batch.drop_column("latest_assessment_at")
        batch.drop_column("latest_assessment_status")
        batch.drop_column("latest_progress_at")
        batch.drop_column("latest_progress_status")
