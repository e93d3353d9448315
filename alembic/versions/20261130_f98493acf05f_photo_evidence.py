"""photo evidence: one row per photo and linked record (issue 11)

`evidence` holds what a device declared, where the bytes are (a staging key the device writes to,
then a content-addressed original the worker copies them to), what verification measured, the
location and time checks, the record's custody chain entry and, after a deletion, the tombstone.
The application role may insert and update rows, never delete one: deleted evidence keeps its row
so that its record's chain still verifies.

Revision ID: f98493acf05f
Revises: 5fa0862d3d44
Create Date: 2026-11-30 02:11:15.462087
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = 'f98493acf05f'
down_revision = '5fa0862d3d44'
branch_labels = None
depends_on = None

GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON evidence TO %I', app_role);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE evidence_id_seq TO %I', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.create_table('evidence',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('uuid', sa.UUID(), nullable=False),
    sa.Column('link_kind', sa.String(length=20), nullable=False),
    sa.Column('link_ref', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('declared_type', sa.String(length=100), nullable=False),
    sa.Column('declared_size', sa.BigInteger(), nullable=False),
    sa.Column('declared_sha256', sa.String(length=64), nullable=False),
    sa.Column('device_captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_position', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('device_accuracy_m', sa.Float(), nullable=True),
    sa.Column('staging_key', sa.String(length=300), nullable=True),
    sa.Column('multipart_upload_id', sa.String(length=300), nullable=True),
    sa.Column('part_size', sa.BigInteger(), nullable=True),
    sa.Column('part_count', sa.Integer(), nullable=True),
    sa.Column('original_key', sa.String(length=300), nullable=True),
    sa.Column('derived_keys', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('detected_type', sa.String(length=20), nullable=True),
    sa.Column('exif', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('position_source', sa.String(length=10), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('threshold_m', sa.Float(), nullable=True),
    sa.Column('uploaded_by_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verify_attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('chain_seq', sa.Integer(), nullable=True),
    sa.Column('chain_prev_hash', sa.String(length=64), nullable=True),
    sa.Column('chain_hash', sa.String(length=64), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_id', sa.BigInteger(), nullable=True),
    sa.Column('deletion_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('uploading', 'pending', 'verified', 'suspicious', 'rejected', 'expired', 'deleted')", name=op.f('ck_evidence_state')),
    sa.CheckConstraint('(chain_seq IS NULL) = (chain_hash IS NULL)', name=op.f('ck_evidence_chain_entry')),
    sa.CheckConstraint('declared_size > 0', name=op.f('ck_evidence_declared_size_positive')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_evidence_deleted_by_id_users')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_evidence_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('link_kind', 'link_ref', 'chain_seq', name='uq_evidence_chain_position'),
    sa.UniqueConstraint('uuid', name=op.f('uq_evidence_uuid'))
    )
    op.create_index(op.f('ix_evidence_declared_sha256'), 'evidence', ['declared_sha256'], unique=False)
    op.create_index('ix_evidence_link', 'evidence', ['link_kind', 'link_ref'], unique=False)
    op.create_index(op.f('ix_evidence_sha256'), 'evidence', ['sha256'], unique=False)
    op.create_index(op.f('ix_evidence_state'), 'evidence', ['state'], unique=False)
    op.create_index(op.f('ix_evidence_uploaded_by_id'), 'evidence', ['uploaded_by_id'], unique=False)
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_uploaded_by_id'), table_name='evidence')
    op.drop_index(op.f('ix_evidence_state'), table_name='evidence')
    op.drop_index(op.f('ix_evidence_sha256'), table_name='evidence')
    op.drop_index('ix_evidence_link', table_name='evidence')
    op.drop_index(op.f('ix_evidence_declared_sha256'), table_name='evidence')
    op.drop_table('evidence')
