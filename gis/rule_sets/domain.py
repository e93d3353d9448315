"""Rule sets: the legal clearance distances and which activities they apply to, versioned."""

from core.registry import Domain
from gis.rule_sets.permissions import RULE_SETS_MANAGE

DOMAIN = Domain(
    name="rule_sets",
    models=("gis.rule_sets.models",),
    routers=("api.routers.rule_sets:router",),
    permissions=(RULE_SETS_MANAGE,),
    commands=("gis.rule_sets.cli:add_commands",),
    # Loaded by the migrations from gis/data/rule_sets; every screening names the version it used.
    reference_tables=("rule_sets",),
)
