"""Who may load a rule set (legal clearance distances): it changes every screening after it."""

from core.permissions import ADMINISTRATORS_ONLY, Permission

RULE_SETS_MANAGE = Permission("rule_sets:manage", ADMINISTRATORS_ONLY)
