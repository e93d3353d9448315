"""import jobs: the uploaded file's fingerprint, size and CRS get columns of their own

They were kept inside `counts` next to the import's results; existing rows are moved over.

Revision ID: f3ab1ead03c3
Revises: 8fdc501bd0d9
Create Date: 2026-11-23 18:58:36.998076
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = 'f3ab1ead03c3'
down_revision = '8fdc501bd0d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('import_jobs', sa.Column('source_sha256', sa.String(length=64), nullable=True))
    op.add_column('import_jobs', sa.Column('source_bytes', sa.BigInteger(), nullable=True))
    op.add_column('import_jobs', sa.Column('source_crs', sa.String(length=80), nullable=True))
    op.execute("""
        UPDATE import_jobs
           SET source_sha256 = counts->>'sha256',
               source_bytes = (counts->>'bytes')::bigint,
               source_crs = counts->>'crs',
               counts = counts - 'sha256' - 'bytes' - 'crs' - 'subnet'
    """)


def downgrade() -> None:
    op.execute("""
        UPDATE import_jobs
           SET counts = counts || jsonb_strip_nulls(jsonb_build_object(
                   'sha256', source_sha256, 'bytes', source_bytes, 'crs', source_crs))
    """)
    op.drop_column('import_jobs', 'source_crs')
    op.drop_column('import_jobs', 'source_bytes')
    op.drop_column('import_jobs', 'source_sha256')
