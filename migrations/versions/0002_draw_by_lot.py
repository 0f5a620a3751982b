"""draw by lot: per-cycle draw rules and the stored draws (DESIGN §6)

Revision ID: 0002_draw_by_lot
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_draw_by_lot"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("draw_distinct_groups", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("draw_same_group", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("draw_max_per_reviewer", sa.Integer(), nullable=False, server_default="2")
        )
        batch_op.add_column(
            sa.Column("draw_no_reciprocal", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_check_constraint(
            op.f("ck_cycle_draw_max_range"), "draw_max_per_reviewer BETWEEN 1 AND 20"
        )
    # existing rows got their defaults; the models give them on insert
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.alter_column("draw_distinct_groups", server_default=None)
        batch_op.alter_column("draw_same_group", server_default=None)
        batch_op.alter_column("draw_max_per_reviewer", server_default=None)
        batch_op.alter_column("draw_no_reciprocal", server_default=None)

    op.create_table(
        "draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("replaces_assignment_id", sa.Integer(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("pool", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user_account.id"], name=op.f("fk_draw_actor_id_user_account")),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], name=op.f("fk_draw_cycle_id_cycle")),
        sa.ForeignKeyConstraint(
            ["replaces_assignment_id"],
            ["assignment.id"],
            name=op.f("fk_draw_replaces_assignment_id_assignment"),
        ),
        sa.ForeignKeyConstraint(["review_id"], ["review.id"], name=op.f("fk_draw_review_id_review")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw")),
    )
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draw_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_draw_review_id"), ["review_id"], unique=False)


def downgrade():
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draw_review_id"))
        batch_op.drop_index(batch_op.f("ix_draw_cycle_id"))
    op.drop_table("draw")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cycle_draw_max_range"), type_="check")
        batch_op.drop_column("draw_no_reciprocal")
        batch_op.drop_column("draw_max_per_reviewer")
        batch_op.drop_column("draw_same_group")
        batch_op.drop_column("draw_distinct_groups")
