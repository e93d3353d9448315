"""Who may push, and who handles what a push could not settle alone (conflicts, the backlog)."""

from core.permissions import Permission, Role

# Devices belong to inspectors: they push their own field work (and read back their own results).
SYNC_PUSH = Permission("sync:push", frozenset({Role.inspector}))
# Both values of a conflicting field, and items that waited too long, are the dispatch desk's to settle.
SYNC_CONFLICTS_RESOLVE = Permission("sync:conflicts_resolve", frozenset({Role.dispatcher, Role.supervisor}))
SYNC_BACKLOG_MANAGE = Permission("sync:backlog_manage", frozenset({Role.dispatcher, Role.supervisor}))

PUSH_PERMISSIONS = (SYNC_PUSH, SYNC_CONFLICTS_RESOLVE, SYNC_BACKLOG_MANAGE)
