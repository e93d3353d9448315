"""personal access tokens: stored credentials for GIS clients (issue 10)

Each row is one user's token: its name, the first characters of the secret (to tell tokens apart),
the SHA-256 of the secret (never the secret), its lifetime, when it was last used and revoked. The
application role may create tokens and update them (last use, revocation), never delete one: a
revoked token stays on record.

Revision ID: 5fa0862d3d44
Revises: b7e2c4d1a9f0
Create Date: 2026-11-29 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '5fa0862d3d44'
down_revision = 'b7e2c4d1a9f0'
branch_labels = None
depends_on = None

GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON personal_access_tokens TO %I', app_role);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE personal_access_tokens_id_seq TO %I', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        'personal_access_tokens',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=20), nullable=False),
        sa.Column('secret_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_access_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_access_tokens')),
        sa.UniqueConstraint('secret_sha256', name=op.f('uq_personal_access_tokens_secret_sha256')),
    )
    op.create_index(op.f('ix_personal_access_tokens_user_id'), 'personal_access_tokens', ['user_id'], unique=False)
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_index(op.f('ix_personal_access_tokens_user_id'), table_name='personal_access_tokens')
    op.drop_table('personal_access_tokens')
