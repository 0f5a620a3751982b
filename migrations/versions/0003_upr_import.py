"""prior UPR recommendations imported from UPR Info exports

Revision ID: 0003_upr_import
Revises: 0002_draw_by_lot
Create Date: 2026-11-29 17:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_upr_import"
down_revision = "0002_draw_by_lot"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "prior_recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_state_name", sa.String(length=120), nullable=False),
        sa.Column("recommending_state", sa.String(length=120), nullable=False),
        sa.Column("recommending_code", sa.String(length=3), nullable=True),
        sa.Column("recommending_group", sa.String(length=20), nullable=False),
        sa.Column(
            "response",
            sa.Enum(
                "supported",
                "noted",
                name="response_position",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("action_category", sa.Integer(), nullable=False),
        sa.Column("issues", sa.Text(), nullable=False),
        sa.Column("upr_session", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "action_category BETWEEN 1 AND 5",
            name=op.f("ck_prior_recommendation_prior_action_category_range"),
        ),
        sa.CheckConstraint(
            "upr_session >= 1", name=op.f("ck_prior_recommendation_upr_session_positive")
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_prior_recommendation_cycle_id_cycle")
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["user_account.id"],
            name=op.f("fk_prior_recommendation_imported_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["state_id"], ["state.id"], name=op.f("fk_prior_recommendation_state_id_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_recommendation")),
        sa.UniqueConstraint("source_hash", name=op.f("uq_prior_recommendation_source_hash")),
    )
    with op.batch_alter_table("prior_recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prior_recommendation_cycle_id"), ["cycle_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prior_recommendation_state_id"), ["state_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("prior_recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prior_recommendation_state_id"))
        batch_op.drop_index(batch_op.f("ix_prior_recommendation_cycle_id"))
    op.drop_table("prior_recommendation")
