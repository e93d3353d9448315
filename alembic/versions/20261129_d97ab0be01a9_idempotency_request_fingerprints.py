"""idempotency request fingerprints

A retried submission (same user, same Idempotency-Key) returns the stored result only if it is the
same request: the SHA-256 of the canonical request (operation, input CRS and the parsed body; see
`core.fingerprint.request_fingerprint`) is kept with the key, on screenings and on cases. A key
sent again with a different request is refused with 422 (IETF Idempotency-Key draft).

Rows stored before this revision keep a NULL fingerprint: what they were asked with is not known
(the input CRS and the body as sent were never kept), so their keys replay the stored result as
before. Nothing is backfilled.

Revision ID: d97ab0be01a9
Revises: a7c3e91f2b64
Create Date: 2026-11-29 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = 'd97ab0be01a9'
down_revision = 'a7c3e91f2b64'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('screenings', sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True))
    op.add_column('cases', sa.Column('idempotency_fingerprint', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('cases', 'idempotency_fingerprint')
    op.drop_column('screenings', 'idempotency_fingerprint')
