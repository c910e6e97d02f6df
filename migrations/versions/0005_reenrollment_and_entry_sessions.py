"""re-enrollment as account recovery: who issued each enrollment code, which code opened a sign-in session,
and which sign-in session wrote each entry version

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# (table, column, type, referred table, constraint name)
COLUMNS = [
    ('auth_sessions', 'enrollment_code_id', sa.Integer(), 'enrollment_codes', 'fk_auth_sessions_enrollment_code'),
    ('diary_entries', 'auth_session_id', sa.String(length=36), 'auth_sessions', 'fk_diary_entries_auth_session'),
    ('diary_entry_versions', 'auth_session_id', sa.String(length=36), 'auth_sessions',
     'fk_diary_entry_versions_auth_session'),
    ('enrollment_codes', 'issued_by', sa.Integer(), 'users', 'fk_enrollment_codes_issued_by'),
]


def upgrade() -> None:
    for table, column, type_, referred, name in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, type_, nullable=True))
            batch_op.create_foreign_key(name, referred, [column], ['id'])


def downgrade() -> None:
    for table, column, _type, _referred, name in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
            batch_op.drop_column(column)
