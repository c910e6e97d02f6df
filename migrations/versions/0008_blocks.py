"""diagnostic blocks: a trial's target and agent, and the block diary's reminder due times

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trials", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "target", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
        batch_op.add_column(sa.Column("agent", sa.String(length=20), nullable=True))
    op.create_table(
        "block_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["trial_id"], ["trials.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trial_id", "due_at"),
    )
    with op.batch_alter_table("block_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_reminders_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("block_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_reminders_due_at"))
    op.drop_table("block_reminders")
    with op.batch_alter_table("trials", schema=None) as batch_op:
        batch_op.drop_column("agent")
        batch_op.drop_column("target")
