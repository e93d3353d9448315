"""topology change log: cached graphs patch the elements a revision touched instead of reloading

A switch toggle used to make every API process reload the whole connectivity graph (over a
hundred thousand edges on the SimBench set). Each topology revision written by the API now names
the elements it touched in `topology_changes`; `topology_state.change_log_keep` bounds how many
revisions are kept.

Revision ID: 46e8c6199e60
Revises: 121de63275df
Create Date: 2026-11-29 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = '46e8c6199e60'
down_revision = '121de63275df'
branch_labels = None
depends_on = None

# Writers insert a revision's row and prune old ones; readers (every API process) select them.
GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON topology_changes TO %I', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.create_table('topology_changes',
    sa.Column('revision', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('element_types', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('element_ids', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('revision', name=op.f('pk_topology_changes'))
    )
    op.add_column('topology_state', sa.Column('change_log_keep', sa.Integer(), server_default='10000',
                                              nullable=False))
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_column('topology_state', 'change_log_keep')
    op.drop_table('topology_changes')
