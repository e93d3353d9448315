"""foundation schema: users, audit log, outbox, network, customers, import jobs

Also makes the audit log append-only in the database and grants the application role only the
privileges it needs (DML on data tables; SELECT and INSERT on the audit log).

Revision ID: 8fdc501bd0d9
Revises: 
Create Date: 2026-11-23 18:30:58.709055
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = '8fdc501bd0d9'
down_revision = None
branch_labels = None
depends_on = None

# Every edge of the connectivity graph in one place, for traces and (later) pgRouting.
NETWORK_EDGES_VIEW = """
CREATE VIEW network_edges AS
    SELECT 'line' AS edge_type, id AS edge_id, node_a_id AS source, node_b_id AS target, FALSE AS is_open
      FROM lines WHERE deleted_at IS NULL AND node_a_id IS NOT NULL AND node_b_id IS NOT NULL
    UNION ALL
    SELECT 'switch', id, node_a_id, node_b_id, is_open
      FROM switches WHERE deleted_at IS NULL AND node_a_id IS NOT NULL AND node_b_id IS NOT NULL
    UNION ALL
    SELECT 'transformer', id, hv_node_id, lv_node_id, FALSE
      FROM transformers WHERE deleted_at IS NULL AND hv_node_id IS NOT NULL AND lv_node_id IS NOT NULL
"""

# History must not be rewritable, not even by the schema owner through the application: a trigger
# rejects UPDATE and DELETE for everyone, and the application role is never granted them.
AUDIT_APPEND_ONLY = """
CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();
"""

# The application connects as its own role, `gridwarden_app` (created by ./gw and docker/initdb).
# If that role does not exist (a single-role external database) the grants are skipped.
GRANT_APP_ROLE = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', app_role);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', app_role);
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM %I', app_role);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=60), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor_name', 'occurred_at'], unique=False)
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity_type', 'entity_id', 'occurred_at'], unique=False)
    op.create_index('ix_audit_log_occurred_at', 'audit_log', ['occurred_at'], unique=False)
    op.create_table('import_jobs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('layer', sa.String(length=40), nullable=True),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('object_key', sa.String(length=300), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='job_status', native_enum=False, length=20), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('row_errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    op.create_table('outbox_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=60), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    op.create_index('ix_outbox_events_unpublished', 'outbox_events', ['id'], unique=False, postgresql_where='published_at IS NULL')
    op.create_table('substations',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('nominal_kv', sa.Float(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False, nullable=False), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_substations')),
    sa.UniqueConstraint('external_id', name=op.f('uq_substations_external_id'))
    )
    op.create_index('idx_substations_geom', 'substations', ['geom'], unique=False, postgresql_using='gist')
    op.create_table('topology_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topology_state'))
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'dispatcher', 'inspector', 'approver', 'auditor', name='user_role', native_enum=False, length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('network_nodes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('node_type', sa.String(length=40), nullable=False),
    sa.Column('nominal_kv', sa.Float(), nullable=True),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('substation_id', sa.BigInteger(), nullable=True),
    sa.Column('is_source', sa.Boolean(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False), nullable=True),
    sa.ForeignKeyConstraint(['substation_id'], ['substations.id'], name=op.f('fk_network_nodes_substation_id_substations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_nodes')),
    sa.UniqueConstraint('external_id', name=op.f('uq_network_nodes_external_id'))
    )
    op.create_index('idx_network_nodes_geom', 'network_nodes', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_network_nodes_substation_id'), 'network_nodes', ['substation_id'], unique=False)
    op.create_table('user_qualifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('certificate_type', sa.String(length=100), nullable=False),
    sa.Column('certificate_number', sa.String(length=100), nullable=False),
    sa.Column('max_voltage_kv', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_qualifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_qualifications'))
    )
    op.create_index(op.f('ix_user_qualifications_user_id'), 'user_qualifications', ['user_id'], unique=False)
    op.create_table('lines',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('construction', sa.Enum('overhead', 'cable', name='line_construction', native_enum=False, length=20), nullable=False),
    sa.Column('nominal_kv', sa.Float(), nullable=False),
    sa.Column('conductor_type', sa.String(length=200), nullable=False),
    sa.Column('conductor_spread_m', sa.Float(), nullable=True),
    sa.Column('conductor_spread_is_default', sa.Boolean(), nullable=False),
    sa.Column('feeder', sa.String(length=100), nullable=True),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('node_a_id', sa.BigInteger(), nullable=True),
    sa.Column('node_b_id', sa.BigInteger(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False, nullable=False), nullable=False),
    sa.Column('length_m', sa.Float(), sa.Computed('ST_Length(geom::geography)', persisted=True), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['node_a_id'], ['network_nodes.id'], name=op.f('fk_lines_node_a_id_network_nodes')),
    sa.ForeignKeyConstraint(['node_b_id'], ['network_nodes.id'], name=op.f('fk_lines_node_b_id_network_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lines')),
    sa.UniqueConstraint('external_id', name=op.f('uq_lines_external_id'))
    )
    op.create_index('idx_lines_geom', 'lines', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_lines_feeder'), 'lines', ['feeder'], unique=False)
    op.create_index(op.f('ix_lines_node_a_id'), 'lines', ['node_a_id'], unique=False)
    op.create_index(op.f('ix_lines_node_b_id'), 'lines', ['node_b_id'], unique=False)
    op.create_index(op.f('ix_lines_subnet'), 'lines', ['subnet'], unique=False)
    op.create_table('poles',
    sa.Column('kind', sa.Enum('pole', 'tower', name='pole_kind', native_enum=False, length=20), nullable=False),
    sa.Column('nominal_kv', sa.Float(), nullable=False),
    sa.Column('node_id', sa.BigInteger(), nullable=True),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False, nullable=False), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['network_nodes.id'], name=op.f('fk_poles_node_id_network_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poles')),
    sa.UniqueConstraint('external_id', name=op.f('uq_poles_external_id'))
    )
    op.create_index('idx_poles_geom', 'poles', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_poles_node_id'), 'poles', ['node_id'], unique=False)
    op.create_table('switches',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('switch_type', sa.String(length=40), nullable=False),
    sa.Column('normally_open', sa.Boolean(), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('nominal_kv', sa.Float(), nullable=True),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('substation_id', sa.BigInteger(), nullable=True),
    sa.Column('node_a_id', sa.BigInteger(), nullable=True),
    sa.Column('node_b_id', sa.BigInteger(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False, nullable=False), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['node_a_id'], ['network_nodes.id'], name=op.f('fk_switches_node_a_id_network_nodes')),
    sa.ForeignKeyConstraint(['node_b_id'], ['network_nodes.id'], name=op.f('fk_switches_node_b_id_network_nodes')),
    sa.ForeignKeyConstraint(['substation_id'], ['substations.id'], name=op.f('fk_switches_substation_id_substations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_switches')),
    sa.UniqueConstraint('external_id', name=op.f('uq_switches_external_id'))
    )
    op.create_index('idx_switches_geom', 'switches', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_switches_node_a_id'), 'switches', ['node_a_id'], unique=False)
    op.create_index(op.f('ix_switches_node_b_id'), 'switches', ['node_b_id'], unique=False)
    op.create_index(op.f('ix_switches_substation_id'), 'switches', ['substation_id'], unique=False)
    op.create_table('transformers',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type_name', sa.String(length=200), nullable=False),
    sa.Column('rated_kva', sa.Float(), nullable=False),
    sa.Column('hv_kv', sa.Float(), nullable=False),
    sa.Column('lv_kv', sa.Float(), nullable=False),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('substation_id', sa.BigInteger(), nullable=True),
    sa.Column('hv_node_id', sa.BigInteger(), nullable=True),
    sa.Column('lv_node_id', sa.BigInteger(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False, nullable=False), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hv_node_id'], ['network_nodes.id'], name=op.f('fk_transformers_hv_node_id_network_nodes')),
    sa.ForeignKeyConstraint(['lv_node_id'], ['network_nodes.id'], name=op.f('fk_transformers_lv_node_id_network_nodes')),
    sa.ForeignKeyConstraint(['substation_id'], ['substations.id'], name=op.f('fk_transformers_substation_id_substations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transformers')),
    sa.UniqueConstraint('external_id', name=op.f('uq_transformers_external_id'))
    )
    op.create_index('idx_transformers_geom', 'transformers', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_transformers_hv_node_id'), 'transformers', ['hv_node_id'], unique=False)
    op.create_index(op.f('ix_transformers_lv_node_id'), 'transformers', ['lv_node_id'], unique=False)
    op.create_index(op.f('ix_transformers_subnet'), 'transformers', ['subnet'], unique=False)
    op.create_index(op.f('ix_transformers_substation_id'), 'transformers', ['substation_id'], unique=False)
    op.create_table('customers',
    sa.Column('account_number', sa.String(length=60), nullable=False),
    sa.Column('meter_number', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('key_account', sa.Boolean(), nullable=False),
    sa.Column('vulnerable', sa.Boolean(), nullable=False),
    sa.Column('guaranteed_supply', sa.Boolean(), nullable=False),
    sa.Column('contracted_load_kw', sa.Float(), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('subnet', sa.String(length=100), nullable=True),
    sa.Column('node_id', sa.BigInteger(), nullable=True),
    sa.Column('transformer_id', sa.BigInteger(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False, nullable=False), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['network_nodes.id'], name=op.f('fk_customers_node_id_network_nodes')),
    sa.ForeignKeyConstraint(['transformer_id'], ['transformers.id'], name=op.f('fk_customers_transformer_id_transformers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('account_number', name=op.f('uq_customers_account_number')),
    sa.UniqueConstraint('external_id', name=op.f('uq_customers_external_id'))
    )
    op.create_index('idx_customers_geom', 'customers', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_customers_meter_number'), 'customers', ['meter_number'], unique=False)
    op.create_index(op.f('ix_customers_node_id'), 'customers', ['node_id'], unique=False)
    op.create_index(op.f('ix_customers_subnet'), 'customers', ['subnet'], unique=False)
    op.create_index(op.f('ix_customers_transformer_id'), 'customers', ['transformer_id'], unique=False)
    op.execute("INSERT INTO topology_state (id, revision) VALUES (1, 0)")
    op.execute(NETWORK_EDGES_VIEW)
    op.execute(AUDIT_APPEND_ONLY)
    op.execute(GRANT_APP_ROLE)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS network_edges")
    op.drop_index(op.f('ix_customers_transformer_id'), table_name='customers')
    op.drop_index(op.f('ix_customers_subnet'), table_name='customers')
    op.drop_index(op.f('ix_customers_node_id'), table_name='customers')
    op.drop_index(op.f('ix_customers_meter_number'), table_name='customers')
    op.drop_index('idx_customers_geom', table_name='customers', postgresql_using='gist')
    op.drop_table('customers')
    op.drop_index(op.f('ix_transformers_substation_id'), table_name='transformers')
    op.drop_index(op.f('ix_transformers_subnet'), table_name='transformers')
    op.drop_index(op.f('ix_transformers_lv_node_id'), table_name='transformers')
    op.drop_index(op.f('ix_transformers_hv_node_id'), table_name='transformers')
    op.drop_index('idx_transformers_geom', table_name='transformers', postgresql_using='gist')
    op.drop_table('transformers')
    op.drop_index(op.f('ix_switches_substation_id'), table_name='switches')
    op.drop_index(op.f('ix_switches_node_b_id'), table_name='switches')
    op.drop_index(op.f('ix_switches_node_a_id'), table_name='switches')
    op.drop_index('idx_switches_geom', table_name='switches', postgresql_using='gist')
    op.drop_table('switches')
    op.drop_index(op.f('ix_poles_node_id'), table_name='poles')
    op.drop_index('idx_poles_geom', table_name='poles', postgresql_using='gist')
    op.drop_table('poles')
    op.drop_index(op.f('ix_lines_subnet'), table_name='lines')
    op.drop_index(op.f('ix_lines_node_b_id'), table_name='lines')
    op.drop_index(op.f('ix_lines_node_a_id'), table_name='lines')
    op.drop_index(op.f('ix_lines_feeder'), table_name='lines')
    op.drop_index('idx_lines_geom', table_name='lines', postgresql_using='gist')
    op.drop_table('lines')
    op.drop_index(op.f('ix_user_qualifications_user_id'), table_name='user_qualifications')
    op.drop_table('user_qualifications')
    op.drop_index(op.f('ix_network_nodes_substation_id'), table_name='network_nodes')
    op.drop_index('idx_network_nodes_geom', table_name='network_nodes', postgresql_using='gist')
    op.drop_table('network_nodes')
    op.drop_table('users')
    op.drop_table('topology_state')
    op.drop_index('idx_substations_geom', table_name='substations', postgresql_using='gist')
    op.drop_table('substations')
    op.drop_index('ix_outbox_events_unpublished', table_name='outbox_events', postgresql_where='published_at IS NULL')
    op.drop_table('outbox_events')
    op.drop_table('import_jobs')
    op.drop_index('ix_audit_log_occurred_at', table_name='audit_log')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_index('ix_audit_log_actor', table_name='audit_log')
    op.drop_table('audit_log')
    op.execute("DROP FUNCTION IF EXISTS audit_log_reject_change()")
