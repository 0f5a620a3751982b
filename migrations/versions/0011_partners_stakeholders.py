"""international partners and stakeholders: roles, assistance requests, offers, programmes,
stakeholder submissions (issue 18)

The role is a VARCHAR(32) guarded by the CHECK constraint ``ck_user_account_role`` on both SQLite
and PostgreSQL (``enum_column``: no native enum type), so the two new roles need only that
constraint widened; SQLite's batch mode recreates the table, copying every row. Partners and
stakeholders carry an organisation name and no state (``ck_user_account_state_required``
relaxed; ``ck_user_account_organisation_required`` and
``ck_user_account_kind_only_for_stakeholders`` added).

Revision ID: 0011_partners_stakeholders
Revises: 0010_action_plans
Create Date: 2026-12-06 03:50:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0011_partners_stakeholders"
down_revision = "0010_action_plans"
branch_labels = None
depends_on = None

OLD_ROLES = ("focal_point", "reviewer", "secretariat")
NEW_ROLES = OLD_ROLES + ("partner", "stakeholder")


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _role_type(values):
    return _enum("role", *values)


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("stakeholder_kind", _enum("stakeholder_kind", "cso", "nhri"), nullable=True)
        )
        batch_op.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_state_required"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_account_role"), f"role IN {NEW_ROLES!r}")
        batch_op.create_check_constraint(
            op.f("ck_user_account_state_required"),
            "role IN ('secretariat', 'partner', 'stakeholder') OR state_id IS NOT NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_user_account_organisation_required"),
            "role NOT IN ('partner', 'stakeholder') OR "
            "(state_id IS NULL AND organisation IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_user_account_kind_only_for_stakeholders"),
            "(role = 'stakeholder') = (stakeholder_kind IS NOT NULL)",
        )

    area = ("security_sector_reform", "rule_of_law", "civil_society", "other")
    op.create_table(
        "assistance_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("area", _enum("assistance_area", *area), nullable=False),
        sa.Column("purpose_code", sa.String(length=5), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("shared_details", sa.Text(), nullable=False),
        sa.Column(
            "status", _enum("request_status", "draft", "shared", "withdrawn"), nullable=False
        ),
        sa.Column("withdrawn_reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("shared_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_assistance_request_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_assistance_request_review_id_review")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["framework_section.id"],
            name=op.f("fk_assistance_request_section_id_framework_section"),
        ),
        sa.ForeignKeyConstraint(
            ["state_id"], ["state.id"], name=op.f("fk_assistance_request_state_id_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_request")),
    )
    with op.batch_alter_table("assistance_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistance_request_review_id"), ["review_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assistance_request_state_id"), ["state_id"], unique=False
        )

    op.create_table(
        "assistance_request_recommendation",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_assistance_request_recommendation_recommendation_id_recommendation"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["assistance_request.id"],
            name=op.f("fk_assistance_request_recommendation_request_id_assistance_request"),
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "recommendation_id", name=op.f("pk_assistance_request_recommendation")
        ),
    )

    op.create_table(
        "offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("offer_kind", "funding", "expertise", "training", "equipment"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("safeguards", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column(
            "status", _enum("offer_status", "pending", "accepted", "declined"), nullable=False
        ),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind != 'equipment' OR length(trim(safeguards)) > 0",
            name=op.f("ck_offer_equipment_safeguards"),
        ),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name=op.f("ck_offer_amount_positive")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_offer_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["user_account.id"], name=op.f("fk_offer_partner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["assistance_request.id"],
            name=op.f("fk_offer_request_id_assistance_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer")),
    )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_request_id"), ["request_id"], unique=False)

    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("state_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("area", _enum("assistance_area", *area), nullable=False),
        sa.Column("purpose_code", sa.String(length=5), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("status", _enum("programme_status", "under_way", "completed"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_programme_dates_in_order")),
        sa.CheckConstraint(
            "amount IS NULL OR amount >= 0", name=op.f("ck_programme_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offer.id"], name=op.f("fk_programme_offer_id_offer")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["user_account.id"], name=op.f("fk_programme_partner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["state_id"], ["state.id"], name=op.f("fk_programme_state_id_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_programme_offer_id")),
    )
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_programme_state_id"), ["state_id"], unique=False)

    op.create_table(
        "programme_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("side", _enum("programme_side", "state", "partner"), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_programme_note_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_note_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_note")),
    )
    with op.batch_alter_table("programme_note", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_note_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "programme_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("side", _enum("programme_side", "state", "partner"), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("what_was_done", sa.Text(), nullable=False),
        sa.Column("outcomes", sa.Text(), nullable=False),
        sa.Column("what_worked", sa.Text(), nullable=False),
        sa.Column("what_did_not", sa.Text(), nullable=False),
        sa.Column("would_repeat", sa.Boolean(), nullable=False),
        sa.Column("consent_to_publish", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_programme_evaluation_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name=op.f("fk_programme_evaluation_programme_id_programme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_evaluation")),
        sa.UniqueConstraint(
            "programme_id", "side", name=op.f("uq_programme_evaluation_programme_id")
        ),
    )
    with op.batch_alter_table("programme_evaluation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_evaluation_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "stakeholder_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            _enum("submission_status", "submitted", "changes_requested", "accepted", "rejected"),
            nullable=False,
        ),
        sa.Column("screening_reason", sa.Text(), nullable=False),
        sa.Column("screened_by_id", sa.Integer(), nullable=True),
        sa.Column("screened_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_stakeholder_submission_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_stakeholder_submission_review_id_review")
        ),
        sa.ForeignKeyConstraint(
            ["screened_by_id"],
            ["user_account.id"],
            name=op.f("fk_stakeholder_submission_screened_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_submission")),
    )
    with op.batch_alter_table("stakeholder_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stakeholder_submission_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stakeholder_submission_review_id"), ["review_id"], unique=False
        )

    op.create_table(
        "submission_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["framework_section.id"],
            name=op.f("fk_submission_section_section_id_framework_section"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["stakeholder_submission.id"],
            name=op.f("fk_submission_section_submission_id_stakeholder_submission"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_section")),
        sa.UniqueConstraint(
            "submission_id", "section_id", name=op.f("uq_submission_section_submission_id")
        ),
    )
    with op.batch_alter_table("submission_section", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_section_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "submission_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=32), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("extension", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["stakeholder_submission.id"],
            name=op.f("fk_submission_file_submission_id_stakeholder_submission"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_file")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_submission_file_storage_key")),
    )
    with op.batch_alter_table("submission_file", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_file_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "stakeholder_summary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_stakeholder_summary_review_id_review")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["framework_section.id"],
            name=op.f("fk_stakeholder_summary_section_id_framework_section"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_stakeholder_summary_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_summary")),
        sa.UniqueConstraint(
            "review_id", "section_id", name=op.f("uq_stakeholder_summary_review_id")
        ),
    )
    with op.batch_alter_table("stakeholder_summary", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stakeholder_summary_review_id"), ["review_id"], unique=False
        )


def downgrade():
    for table in (
        "stakeholder_summary",
        "submission_file",
        "submission_section",
        "stakeholder_submission",
        "programme_evaluation",
        "programme_note",
        "programme",
        "offer",
        "assistance_request_recommendation",
        "assistance_request",
    ):
        op.drop_table(table)
    # organisation accounts cannot exist under the old constraints: they are deactivated
    # reviewers-less rows, so they are removed with their organisation columns
    op.execute("DELETE FROM user_account WHERE role IN ('partner', 'stakeholder')")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_kind_only_for_stakeholders"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_organisation_required"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_state_required"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_user_account_role"), f"role IN {OLD_ROLES!r}")
        batch_op.create_check_constraint(
            op.f("ck_user_account_state_required"), "role = 'secretariat' OR state_id IS NOT NULL"
        )
        batch_op.drop_constraint(op.f("ck_user_account_stakeholder_kind"), type_="check")
        batch_op.drop_column("stakeholder_kind")
        batch_op.drop_column("organisation")
