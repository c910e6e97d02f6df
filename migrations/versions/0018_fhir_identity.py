"""FHIR an EHR can file: the patient's administrative gender, the clinic's public id and its MRN's system

Revision ID: 0018
Revises: 0019
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('gender', sa.String(length=10), server_default='unknown', nullable=False))
    with op.batch_alter_table('clinics') as batch:
        batch.add_column(sa.Column('public_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('mrn_system', sa.String(length=255), nullable=True))
    clinics = sa.table('clinics', sa.column('id', sa.Integer), sa.column('public_id', sa.String))
    connection = op.get_bind()
    for (clinic_id,) in connection.execute(sa.select(clinics.c.id)).all():
        connection.execute(clinics.update().where(clinics.c.id == clinic_id).values(public_id=str(uuid.uuid4())))
    with op.batch_alter_table('clinics') as batch:
        batch.alter_column('public_id', existing_type=sa.String(length=36), nullable=False)
        batch.create_unique_constraint('uq_clinics_public_id', ['public_id'])


def downgrade() -> None:
    with op.batch_alter_table('clinics') as batch:
        batch.drop_constraint('uq_clinics_public_id', type_='unique')
        batch.drop_column('mrn_system')
        batch.drop_column('public_id')
    with op.batch_alter_table('patients') as batch:
        batch.drop_column('gender')
