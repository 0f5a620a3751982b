"""the six UN languages: each account's chosen language; translations of the framework's text

``user_account.locale`` holds the interface and e-mail language a person chose (NULL: the
browser's, else English). ``framework``, ``framework_section`` and ``question`` get a JSON
``translations`` column, ``{locale: {field: text}}``, filled by ``flask seed`` from the framework's
translation files (``app/data/frameworks/<code>-v<version>.<locale>.yaml``) (issue 15).

Revision ID: 0009_i15_languages
Revises: 0008_bench_indexes
Create Date: 2026-12-06 03:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0009_i15_languages"
down_revision = "0008_bench_indexes"
branch_labels = None
depends_on = None

TABLES = ("framework", "framework_section", "question")


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=8), nullable=True))
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("translations", sa.JSON(), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("translations")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("locale")
