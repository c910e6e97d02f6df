"""console sessions: the kind of a sign-in session, and when its user was last seen (idle timeout)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auth_sessions') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=10), server_default='api', nullable=False))
        batch.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_sessions') as batch:
        batch.drop_column('last_seen_at')
        batch.drop_column('kind')
