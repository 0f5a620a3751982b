"""self-assessment versions and carried-over answers

Issue 16 item 6: a frozen, numbered copy of a review's answers at each submission
(``self_assessment_version``), and ``answer.carried_from_id``, the earlier review an answer was
copied from until the state edits it. Existing reviews get no versions (their earlier
submissions were not frozen); existing answers are their state's own (NULL).

Revision ID: 0016_sa_versions
Revises: 0015_accounts
Create Date: 2026-12-06 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_sa_versions"
down_revision = "0015_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "self_assessment_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_self_assessment_version_review_id_review")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_self_assessment_version_submitted_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_assessment_version")),
        sa.UniqueConstraint(
            "review_id", "number", name=op.f("uq_self_assessment_version_review_id")
        ),
    )
    with op.batch_alter_table("self_assessment_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_self_assessment_version_review_id"), ["review_id"], unique=False
        )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carried_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_answer_carried_from_id_review"), "review", ["carried_from_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_answer_carried_from_id_review"), type_="foreignkey")
        batch_op.drop_column("carried_from_id")
    with op.batch_alter_table("self_assessment_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_self_assessment_version_review_id"))
    op.drop_table("self_assessment_version")
