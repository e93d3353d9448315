"""Who may read and change the line and transformer network."""

from core.permissions import EVERY_ROLE, Permission, Role

NETWORK_READ = Permission("network:read", EVERY_ROLE)
# Dispatchers keep the network model current; inspectors report what they find, they change no master data.
NETWORK_WRITE = Permission("network:write", frozenset({Role.dispatcher}))
