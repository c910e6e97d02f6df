"""expected findings: a safety rule marked expected for a trial until a time; alerts stored as expected

Revision ID: 0019
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0011'
branch_labels = None
depends_on = None

LIVE_EXPECTED = "status = 'expected' AND acknowledged_at IS NULL"


def upgrade() -> None:
    op.create_table('expected_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('trial_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['trial_id'], ['trials.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('expected_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expected_findings_trial_id'), ['trial_id'], unique=False)
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('uq_alerts_expected', ['trial_id', 'rule', 'local_day'], unique=True,
                              sqlite_where=sa.text(LIVE_EXPECTED), postgresql_where=sa.text(LIVE_EXPECTED))


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_expected', sqlite_where=sa.text(LIVE_EXPECTED),
                            postgresql_where=sa.text(LIVE_EXPECTED))
    with op.batch_alter_table('expected_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expected_findings_trial_id'))
    op.drop_table('expected_findings')
