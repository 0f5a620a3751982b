"""indexes for the latest assessment / progress update of each recommendation (issue 9)

"The latest row of a recommendation's history" (app/services/latest.py) looks for a newer row of
the same recommendation: an index on (recommendation_id, created_at, id) answers it from the
index alone.

Revision ID: 0008_bench_indexes
Revises: 0007_notifications
Create Date: 2026-11-29 20:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0008_bench_indexes"
down_revision = "0007_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_assessment_history", "assessment", ["recommendation_id", "created_at", "id"]
    )
    op.create_index(
        "ix_progress_update_history", "progress_update", ["recommendation_id", "created_at", "id"]
    )


def downgrade():
    op.drop_index("ix_progress_update_history", table_name="progress_update")
    op.drop_index("ix_assessment_history", table_name="assessment")
