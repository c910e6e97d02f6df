"""text messages: patients' mobile numbers and consent, the clinic's phone, texts' provider ids, inbound texts,
scheduled texts and sign-in links

The clinic's phone is added here because HELP answers with it; the diary branch (#17) adds the same field for its
"when to call" page: the lead keeps one of the two at merge.

Revision ID: 0015
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients') as batch:
        batch.add_column(sa.Column('mobile_number', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('sms_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('sms_consent_source', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('sms_consent_by', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('sms_opted_out_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('sms_block_night_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key('fk_patients_sms_consent_by_users', 'users', ['sms_consent_by'], ['id'])
        batch.create_index('ix_patients_mobile_number', ['mobile_number'])
    with op.batch_alter_table('clinics') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=16), nullable=True))
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('provider_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('provider_status', sa.String(length=20), nullable=True))
        batch.create_unique_constraint('uq_notifications_provider_id', ['provider_id'])
    op.create_index('ix_notifications_sms_patient', 'notifications', ['destination', 'created_at'],
                    sqlite_where=sa.text("channel = 'sms'"), postgresql_where=sa.text("channel = 'sms'"))
    op.create_table(
        'inbound_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.String(length=64), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('keyword', sa.String(length=10), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id']),
        sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id']),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider_id', 'patient_id'),
    )
    op.create_index('ix_inbound_messages_patient_id', 'inbound_messages', ['patient_id'])
    op.create_table(
        'scheduled_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('trial_id', sa.Integer(), nullable=True),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('since_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stale_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id']),
        sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_scheduled_texts_due', 'scheduled_texts', ['due_at'])
    op.create_table(
        'sign_in_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('requested_via', sa.String(length=20), nullable=False),
        sa.Column('issued_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['issued_by'], ['users.id']),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_sign_in_links_patient_id', 'sign_in_links', ['patient_id'])


def downgrade() -> None:
    op.drop_index('ix_sign_in_links_patient_id', table_name='sign_in_links')
    op.drop_table('sign_in_links')
    op.drop_index('ix_scheduled_texts_due', table_name='scheduled_texts')
    op.drop_table('scheduled_texts')
    op.drop_index('ix_inbound_messages_patient_id', table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_index('ix_notifications_sms_patient', table_name='notifications')
    with op.batch_alter_table('notifications') as batch:
        batch.drop_constraint('uq_notifications_provider_id', type_='unique')
        batch.drop_column('provider_status')
        batch.drop_column('provider_id')
    with op.batch_alter_table('clinics') as batch:
        batch.drop_column('phone')
    with op.batch_alter_table('patients') as batch:
        batch.drop_index('ix_patients_mobile_number')
        batch.drop_constraint('fk_patients_sms_consent_by_users', type_='foreignkey')
        batch.drop_column('sms_block_night_consent_at')
        batch.drop_column('sms_opted_out_at')
        batch.drop_column('sms_consent_by')
        batch.drop_column('sms_consent_source')
        batch.drop_column('sms_consent_at')
        batch.drop_column('mobile_number')
