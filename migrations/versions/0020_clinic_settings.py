"""The clinic's timezone (its clinic-wide pages read times in it) and a patient's caregiver

Revision ID: 0020
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clinics') as batch:
        batch.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('caregiver_name', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('caregiver_phone', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('caregiver_phone')
        batch.drop_column('caregiver_name')
    with op.batch_alter_table('clinics') as batch:
        batch.drop_column('timezone')
