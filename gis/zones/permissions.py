"""Who may draw manual protection zones and built-up areas (derived zones follow the lines)."""

from core.permissions import Permission, Role

ZONES_WRITE = Permission("zones:write", frozenset({Role.dispatcher}))
