"""the patient's diary page: the patient's language and goals (the clinic's phone came with 0015, texts)

Revision ID: 0011
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
        batch.add_column(sa.Column('goals', json, server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('goals')
        batch.drop_column('language')
