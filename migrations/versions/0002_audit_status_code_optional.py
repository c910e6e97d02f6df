"""audit: the status code is kept for refusals only

A success row commits with the change it records, before the response status exists; rows are never
updated afterwards, so the column must allow NULL.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("status_code", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE audit_events SET status_code = 200 WHERE status_code IS NULL")
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("status_code", existing_type=sa.Integer(), nullable=False)
