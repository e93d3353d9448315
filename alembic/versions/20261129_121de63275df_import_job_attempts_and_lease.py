"""import jobs: attempts, the worker that holds the job, when it started and when it was last sent

A job whose worker dies is taken over by the next delivery (or the relay); the number of attempts
and the worker that held it are kept on the row for the operator.

Revision ID: 121de63275df
Revises: d97ab0be01a9
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '121de63275df'
down_revision = 'd97ab0be01a9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('import_jobs', sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('import_jobs', sa.Column('worker', sa.String(length=200), nullable=True))
    op.add_column('import_jobs', sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('import_jobs', sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('import_jobs', 'sent_at')
    op.drop_column('import_jobs', 'started_at')
    op.drop_column('import_jobs', 'worker')
    op.drop_column('import_jobs', 'attempts')
