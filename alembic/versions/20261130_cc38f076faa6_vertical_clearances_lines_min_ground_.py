"""vertical clearances: lines.min_ground_clearance_m, findings.clearance_check and rule sets CN-EPP 2011.2, US-OSHA 2010.2

The new rule-set versions add kites, vehicles passing under lines, trees by voltage and vertical
clearances for buildings and cranes (issue 13). Rule sets are immutable, so these are new versions
beside 2011.1 / 2010.1, which stay for the screenings made with them. CN-EPP 2011.2 becomes the
default where 2011.1 was; its zone rules are 2011.1's, unchanged (tests/gis/rule_sets compare them),
so the derived zones are re-labelled to it rather than rebuilt.

Revision ID: cc38f076faa6
Revises: bd8f4137eecb
Create Date: 2026-11-30 08:29:29.226323
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision = 'cc38f076faa6'
down_revision = 'bd8f4137eecb'
branch_labels = None
depends_on = None

RULE_SET_DIR = Path(__file__).resolve().parents[2] / "gis" / "data" / "rule_sets"
SHIPPED_RULE_SETS = ("cn-epp-2011.2.json", "us-osha-2010.2.json")
REPLACED_DEFAULT = ("CN-EPP", "2011.1")


def _load_shipped_rule_sets() -> None:
    """Insert the rule sets shipped with this revision; the same fingerprint as the service uses."""
    insert = sa.text("""
        INSERT INTO rule_sets (code, version, jurisdiction, title, effective_date, is_default, definition,
                               sha256, loaded_by)
        VALUES (:code, :version, :jurisdiction, :title, :effective_date, false, CAST(:definition AS jsonb),
                :sha256, 'migration cc38f076faa6')
        ON CONFLICT (code, version) DO NOTHING""")
    for name in SHIPPED_RULE_SETS:
        content = json.loads((RULE_SET_DIR / name).read_text(encoding="utf-8"))
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        op.get_bind().execute(insert, {
            "code": content["code"], "version": content["version"], "jurisdiction": content["jurisdiction"],
            "title": content["title"], "effective_date": content["effective_date"],
            "definition": json.dumps(content, ensure_ascii=False),
            "sha256": hashlib.sha256(canonical.encode()).hexdigest()})


def _move_default(old: tuple[str, str], new: tuple[str, str]) -> None:
    """Make `new` the default if `old` is (a utility that chose another default keeps it), and
    re-label the derived zones built under `old`: their rules are the same. One default at a time
    (a unique index), so the old one is unset first."""
    bind = op.get_bind()
    find = sa.text("SELECT id, is_default FROM rule_sets WHERE code = :code AND version = :version")
    old_row = bind.execute(find, {"code": old[0], "version": old[1]}).first()
    new_row = bind.execute(find, {"code": new[0], "version": new[1]}).first()
    if old_row is None or new_row is None or not old_row.is_default:
        return
    ids = {"old": old_row.id, "new": new_row.id}
    bind.execute(sa.text("UPDATE rule_sets SET is_default = false WHERE id = :old"), ids)
    bind.execute(sa.text("UPDATE rule_sets SET is_default = true WHERE id = :new"), ids)
    bind.execute(sa.text("UPDATE line_zones SET rule_set_id = :new WHERE rule_set_id = :old"), ids)


def upgrade() -> None:
    op.add_column('lines', sa.Column('min_ground_clearance_m', sa.Float(), nullable=True))
    op.create_check_constraint(op.f('ck_lines_min_ground_clearance_positive'), 'lines',
                               'min_ground_clearance_m IS NULL OR min_ground_clearance_m > 0')
    op.add_column('findings', sa.Column('clearance_check', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    _load_shipped_rule_sets()
    _move_default(REPLACED_DEFAULT, ("CN-EPP", "2011.2"))


def downgrade() -> None:
    _move_default(("CN-EPP", "2011.2"), REPLACED_DEFAULT)
    op.execute(sa.text("DELETE FROM rule_sets WHERE (code, version) IN (('CN-EPP', '2011.2'), ('US-OSHA', '2010.2')) "
                       "AND NOT EXISTS (SELECT 1 FROM screenings s WHERE s.rule_set_id = rule_sets.id)"))
    op.drop_column('findings', 'clearance_check')
    op.drop_constraint(op.f('ck_lines_min_ground_clearance_positive'), 'lines', type_='check')
    op.drop_column('lines', 'min_ground_clearance_m')
