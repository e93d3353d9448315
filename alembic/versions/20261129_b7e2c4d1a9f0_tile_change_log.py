"""tile change log: the boxes where each drawn table changed, written by triggers (issue 10)

Every table a vector-tile layer draws gets three statement-level triggers (insert, update, delete,
with transition tables: one statement of many rows costs one insert here, not one per row) and a
truncate trigger. They append the bounding box of each changed row, before and after, to
`tile_changes`; a statement changing more than `tile_state.bulk_rows` rows appends their common
extent instead. An update that changes nothing in a row records nothing. The application role may
read the log and add to it (its writes fire the triggers); the daily prune (its worker) empties it
and moves the epoch, nothing else changes it.

Revision ID: b7e2c4d1a9f0
Revises: dacfa195d82f
Create Date: 2026-11-29 23:10:00
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa

from alembic import op

revision = 'b7e2c4d1a9f0'
down_revision = 'dacfa195d82f'
branch_labels = None
depends_on = None

# (table, geometry column) of every table a tile layer draws (gis/layers/tiles/layers.json).
DRAWN = (("lines", "geom"), ("transformers", "geom"), ("switches", "geom"), ("substations", "geom"),
         ("poles", "geom"), ("customers", "geom"), ("built_up_areas", "geom"), ("manual_zones", "geom"),
         ("line_zones", "geom"), ("cases", "location"))

FUNCTION = """
CREATE FUNCTION record_tile_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    geom_column text := TG_ARGV[0];
    bulk integer;
    changed text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO tile_changes (source, bbox)
        VALUES (TG_TABLE_NAME, ST_MakeEnvelope(-180, -90, 180, 90, 4326));
        RETURN NULL;
    END IF;
    SELECT bulk_rows INTO bulk FROM tile_state WHERE id = 1;
    IF TG_OP = 'INSERT' THEN
        changed := format('SELECT %I AS g FROM new_rows', geom_column);
    ELSIF TG_OP = 'DELETE' THEN
        changed := format('SELECT %I AS g FROM old_rows', geom_column);
    ELSE
        -- Rows are matched by id; a row whose text is unchanged was not really changed.
        changed := format('SELECT o.%1$I AS g FROM old_rows o JOIN new_rows n ON n.id = o.id '
                          'WHERE o::text IS DISTINCT FROM n::text '
                          'UNION ALL SELECT n.%1$I FROM old_rows o JOIN new_rows n ON n.id = o.id '
                          'WHERE o::text IS DISTINCT FROM n::text', geom_column);
    END IF;
    EXECUTE format(
        'WITH changed AS (%s), counted AS (SELECT count(*) AS n FROM changed WHERE g IS NOT NULL) '
        'INSERT INTO tile_changes (source, bbox) '
        'SELECT $1, ST_Envelope(g) FROM changed, counted WHERE g IS NOT NULL AND counted.n <= $2 '
        'UNION ALL '
        'SELECT $1, ST_SetSRID(ST_Extent(g)::geometry, 4326) FROM changed WHERE g IS NOT NULL '
        'HAVING count(*) > $2', changed)
    USING TG_TABLE_NAME, coalesce(bulk, 0);
    RETURN NULL;
END
$fn$;

CREATE FUNCTION new_tile_epoch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE tile_state SET epoch = gen_random_uuid() WHERE id = 1;
    RETURN NULL;
END
$fn$;
"""

GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON tile_changes TO %I', app_role);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE tile_changes_id_seq TO %I', app_role);
        EXECUTE format('GRANT SELECT, UPDATE (epoch) ON tile_state TO %I', app_role);
    END IF;
END $$;
"""


# Transition tables each trigger reads (a trigger with transition tables fires on one event only).
REFERENCING = {"insert": "REFERENCING NEW TABLE AS new_rows", "delete": "REFERENCING OLD TABLE AS old_rows",
               "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", "truncate": ""}


def _triggers(table: str, column: str) -> str:
    return "\n".join(f"CREATE TRIGGER tile_change_{event} AFTER {event.upper()} ON {table} {referencing} "
                     f"FOR EACH STATEMENT EXECUTE FUNCTION record_tile_change('{column}');"
                     for event, referencing in REFERENCING.items())


def upgrade() -> None:
    op.create_table('tile_changes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=63), nullable=False),
    sa.Column('bbox', geoalchemy2.types.Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tile_changes'))
    )
    op.create_index('idx_tile_changes_bbox', 'tile_changes', ['bbox'], unique=False, postgresql_using='gist')
    op.create_table('tile_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('bulk_rows', sa.Integer(), server_default='500', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tile_state'))
    )
    op.execute("INSERT INTO tile_state (id) VALUES (1)")
    op.execute(FUNCTION)
    for table, column in DRAWN:
        op.execute(_triggers(table, column))
    op.execute("CREATE TRIGGER tile_changes_truncate AFTER TRUNCATE ON tile_changes "
               "FOR EACH STATEMENT EXECUTE FUNCTION new_tile_epoch();")
    op.execute(GRANTS)


def downgrade() -> None:
    for table, _column in DRAWN:
        for event in REFERENCING:
            op.execute(f"DROP TRIGGER tile_change_{event} ON {table}")
    op.execute("DROP TRIGGER tile_changes_truncate ON tile_changes")
    op.execute("DROP FUNCTION record_tile_change()")
    op.execute("DROP FUNCTION new_tile_epoch()")
    op.drop_table('tile_state')
    op.drop_index('idx_tile_changes_bbox', table_name='tile_changes', postgresql_using='gist')
    op.drop_table('tile_changes')
