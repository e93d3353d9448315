"""phone masking function for lists written by the database

`gw_mask_phone` applies the rule of `gis.customers.privacy.mask_phone` (keep the first two and the
last two digits, star the rest; numbers of six digits or fewer keep only the last two), so customer
lists can be written as JSON by PostgreSQL, like the network layers, with phones masked for roles
that may not see them.

Revision ID: cc2464aa8efb
Revises: 5d1e08da9ee6
Create Date: 2026-11-23 20:32:48.872190
"""

from __future__ import annotations

from alembic import op

revision = 'cc2464aa8efb'
down_revision = '5d1e08da9ee6'
branch_labels = None
depends_on = None

MASK_PHONE = r"""
CREATE OR REPLACE FUNCTION gw_mask_phone(phone text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    digits int := length(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'));
    seen int := 0;
    masked text := '';
    ch text;
BEGIN
    IF phone IS NULL OR phone = '' THEN
        RETURN phone;
    END IF;
    FOREACH ch IN ARRAY regexp_split_to_array(phone, '') LOOP
        IF ch ~ '^[0-9]$' THEN
            seen := seen + 1;
            IF (digits > 6 AND (seen <= 2 OR seen > digits - 2)) OR (digits <= 6 AND seen > digits - 2) THEN
                masked := masked || ch;
            ELSE
                masked := masked || '*';
            END IF;
        ELSE
            masked := masked || ch;
        END IF;
    END LOOP;
    RETURN masked;
END $$;
"""


def upgrade() -> None:
    op.execute(MASK_PHONE)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS gw_mask_phone(text)")
