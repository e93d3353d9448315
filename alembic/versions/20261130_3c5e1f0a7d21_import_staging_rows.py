"""import staging rows: validated rows of an import job waiting to be written in chunks (issue 14)

An import stages every validated row of its source in one transaction, then moves them into the
network tables chunk by chunk, each chunk committing its resume point on the job; a failed import
continues after its last chunk. The rows are deleted when the job finishes (and with the job).

Revision ID: 3c5e1f0a7d21
Revises: cc38f076faa6
Create Date: 2026-11-30 09:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = '3c5e1f0a7d21'
down_revision = 'cc38f076faa6'
branch_labels = None
depends_on = None

GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON import_staging_rows TO %I', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.create_table('import_staging_rows',
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('layer', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('row', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], name=op.f('fk_import_staging_rows_job_id_import_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'layer', 'seq', name=op.f('pk_import_staging_rows'))
    )
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_table('import_staging_rows')
