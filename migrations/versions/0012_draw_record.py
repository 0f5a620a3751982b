"""draw record: a draw is recorded when opened, set aside with a reason, verifiable (issue 16)

Existing draws were stored on confirmation: they become "confirmed", each its own batch.

Revision ID: 0012_draw_record
Revises: 0011_partners_stakeholders
Create Date: 2026-12-06 03:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_draw_record"
down_revision = "0011_partners_stakeholders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), server_default="confirmed", nullable=False)
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("batch", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_draw_batch"), ["batch"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_draw_closed_by_id_user_account"), "user_account", ["closed_by_id"], ["id"]
        )
    op.execute("UPDATE draw SET batch = id, closed_at = created_at, closed_by_id = actor_id")


def downgrade():
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_draw_closed_by_id_user_account"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_draw_batch"))
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("batch")
        batch_op.drop_column("reason")
        batch_op.drop_column("status")
