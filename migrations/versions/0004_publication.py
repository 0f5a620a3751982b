"""publication consent, mid-term reports, carried-over recommendations, progress evidence

Revision ID: 0004_publication
Revises: 0003_upr_import
Create Date: 2026-11-29 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_publication"
down_revision = "0003_upr_import"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('publication_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('full', 'summary', 'none', name='consent_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_publication_consent_author_id_user_account')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_publication_consent_review_id_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication_consent'))
    )
    with op.batch_alter_table('publication_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_consent_review_id'), ['review_id'], unique=False)

    op.create_table('midterm_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_midterm_report_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_midterm_report_published_by_id_user_account')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_midterm_report_review_id_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_midterm_report')),
    sa.UniqueConstraint('review_id', 'version', name=op.f('uq_midterm_report_review_id'))
    )
    with op.batch_alter_table('midterm_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_midterm_report_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_recommendation_carried_from_id_recommendation'), 'recommendation', ['carried_from_id'], ['id'])

    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('progress_update', schema=None) as batch_op:
        batch_op.drop_column('evidence')

    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_recommendation_carried_from_id_recommendation'), type_='foreignkey')
        batch_op.drop_column('carried_from_id')

    with op.batch_alter_table('midterm_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_midterm_report_review_id'))

    op.drop_table('midterm_report')
    with op.batch_alter_table('publication_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_consent_review_id'))

    op.drop_table('publication_consent')
