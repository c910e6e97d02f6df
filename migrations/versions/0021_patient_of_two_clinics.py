"""A patient of two clinics: one account per person, a patient record per clinic, each linked by its own code

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # patients.user_id was unique (one record per account): 0001 left the constraint unnamed.
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('patients', recreate='always',
                                  naming_convention={'uq': 'uq_%(table_name)s_%(column_0_N_name)s'}) as batch:
            batch.drop_constraint('uq_patients_user_id', type_='unique')
    else:
        op.drop_constraint('patients_user_id_key', 'patients', type_='unique')
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint('uq_patients_clinic_id_user_id', ['clinic_id', 'user_id'])
        batch.create_index('ix_patients_user_id', ['user_id'], unique=False)
    # Every record so far is its account's only one: enrolled when its account has a password.
    op.execute("UPDATE patients SET enrolled_at = created_at WHERE user_id IN "
               "(SELECT id FROM users WHERE password_hash IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table('patients') as batch:
        batch.drop_index('ix_patients_user_id')
        batch.drop_constraint('uq_patients_clinic_id_user_id', type_='unique')
        batch.drop_column('enrolled_at')
        batch.create_unique_constraint('patients_user_id_key', ['user_id'])
