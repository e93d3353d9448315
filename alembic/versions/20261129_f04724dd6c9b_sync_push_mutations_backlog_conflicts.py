"""sync push: mutations (idempotency record), backlog, conflicts (issue 9, section 3)

A device pushes batches of mutations, each with its own uuid; `sync_mutations` keeps every one with
its content fingerprint and the result the server gave, so a replay answers with the original result
and a reused uuid with other content is refused. Items whose parent has not arrived wait in
`sync_backlog`; fields that a device and the server both changed are kept in `sync_conflicts` with
both values. All three are history: the app role may add and update rows, never delete them.

Revision ID: f04724dd6c9b
Revises: 94dfe4c44168
Create Date: 2026-11-29 19:34:12.598384
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = 'f04724dd6c9b'
down_revision = '94dfe4c44168'
branch_labels = None
depends_on = None

TABLES = ("sync_mutations", "sync_backlog", "sync_conflicts")
SEQUENCES = ("sync_backlog_id_seq", "sync_conflicts_id_seq")
GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO %I', '""" + ", ".join(TABLES) + """', app_role);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', '""" + ", ".join(SEQUENCES) + """', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.create_table('sync_mutations',
    sa.Column('uuid', sa.UUID(), nullable=False),
    sa.Column('device_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('device_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('server_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('skew_s', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=True),
    sa.Column('entity_id', sa.String(length=60), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_sync_mutations_device_id_devices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_mutations_user_id_users')),
    sa.PrimaryKeyConstraint('uuid', name=op.f('pk_sync_mutations'))
    )
    op.create_index(op.f('ix_sync_mutations_device_id'), 'sync_mutations', ['device_id'], unique=False)
    op.create_index(op.f('ix_sync_mutations_user_id'), 'sync_mutations', ['user_id'], unique=False)
    op.create_table('sync_backlog',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('mutation_uuid', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('item', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('waiting_for_type', sa.String(length=60), nullable=False),
    sa.Column('waiting_for_uuid', sa.UUID(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.BigInteger(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['mutation_uuid'], ['sync_mutations.uuid'], name=op.f('fk_sync_backlog_mutation_uuid_sync_mutations')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_sync_backlog_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_backlog_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_backlog')),
    sa.UniqueConstraint('mutation_uuid', name=op.f('uq_sync_backlog_mutation_uuid'))
    )
    op.create_index(op.f('ix_sync_backlog_state'), 'sync_backlog', ['state'], unique=False)
    op.create_index('ix_sync_backlog_waiting_parent', 'sync_backlog', ['waiting_for_uuid'], unique=False, postgresql_where=sa.text("state = 'waiting'"))
    op.create_table('sync_conflicts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('mutation_uuid', sa.UUID(), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('field', sa.String(length=120), nullable=False),
    sa.Column('server_value', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('device_value', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('kept', sa.String(length=20), nullable=True),
    sa.Column('resolved_value', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['mutation_uuid'], ['sync_mutations.uuid'], name=op.f('fk_sync_conflicts_mutation_uuid_sync_mutations')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_sync_conflicts_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    op.create_index(op.f('ix_sync_conflicts_mutation_uuid'), 'sync_conflicts', ['mutation_uuid'], unique=False)
    op.create_index(op.f('ix_sync_conflicts_state'), 'sync_conflicts', ['state'], unique=False)
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_index(op.f('ix_sync_conflicts_state'), table_name='sync_conflicts')
    op.drop_index(op.f('ix_sync_conflicts_mutation_uuid'), table_name='sync_conflicts')
    op.drop_table('sync_conflicts')
    op.drop_index('ix_sync_backlog_waiting_parent', table_name='sync_backlog', postgresql_where=sa.text("state = 'waiting'"))
    op.drop_index(op.f('ix_sync_backlog_state'), table_name='sync_backlog')
    op.drop_table('sync_backlog')
    op.drop_index(op.f('ix_sync_mutations_user_id'), table_name='sync_mutations')
    op.drop_index(op.f('ix_sync_mutations_device_id'), table_name='sync_mutations')
    op.drop_table('sync_mutations')
