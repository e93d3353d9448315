"""Who may do what with devices, pull and positions."""

from core.permissions import EVERY_ROLE, Permission, Role

# Anyone signed in registers their own phone or tablet, lists and revokes their own devices.
DEVICES_REGISTER = Permission("devices:register", EVERY_ROLE)
# Supervisors see every device (a lost phone is reported to them); administrators revoke any.
DEVICES_READ_ALL = Permission("devices:read_all", frozenset({Role.supervisor}))
DEVICES_REVOKE_ANY = Permission("devices:revoke_any", frozenset())
# Pull is an inspector's: their tasks and what is around them.
SYNC_PULL = Permission("sync:pull", frozenset({Role.inspector}))
# Live positions: an inspector's app reports them; dispatchers and supervisors watch every crew,
# an inspector only their own track.
POSITIONS_REPORT = Permission("positions:report", frozenset({Role.inspector}))
POSITIONS_READ = Permission("positions:read", frozenset({Role.dispatcher, Role.supervisor, Role.inspector}))
POSITIONS_READ_ALL = Permission("positions:read_all", frozenset({Role.dispatcher, Role.supervisor}))

SYNC_PERMISSIONS = (DEVICES_REGISTER, DEVICES_READ_ALL, DEVICES_REVOKE_ANY, SYNC_PULL, POSITIONS_REPORT,
                    POSITIONS_READ, POSITIONS_READ_ALL)
