"""token versions and revoked tokens: sessions end when their user is disabled, changed or signs out

`users.token_version` is carried in every token; bumping it invalidates all tokens issued before.
`revoked_tokens` holds the id (`jti`) of each token signed out before it expired, until it expires.

Revision ID: a7c3e91f2b64
Revises: cc2464aa8efb
Create Date: 2026-11-29 14:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = 'a7c3e91f2b64'
down_revision = 'cc2464aa8efb'
branch_labels = None
depends_on = None

GRANTS = """
DO $$
DECLARE app_role text := 'gridwarden_app';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) AND app_role <> current_user THEN
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON revoked_tokens TO %I', app_role);
    END IF;
END $$;
"""


def upgrade() -> None:
    op.add_column('users', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'revoked_tokens',
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_revoked_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens')),
    )
    op.create_index(op.f('ix_revoked_tokens_user_id'), 'revoked_tokens', ['user_id'], unique=False)
    op.execute(GRANTS)


def downgrade() -> None:
    op.drop_index(op.f('ix_revoked_tokens_user_id'), table_name='revoked_tokens')
    op.drop_table('revoked_tokens')
    op.drop_column('users', 'token_version')
