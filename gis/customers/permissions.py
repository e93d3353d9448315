"""Who may see and change customer locations and their contact numbers (personal data, DOMAIN.md §6)."""

from core.permissions import EVERY_ROLE, Permission, Role

CUSTOMERS_READ = Permission("customers:read", EVERY_ROLE)
# Dispatchers call customers about outages; inspectors need the number on site. Everyone else sees
# it masked (auditors included).
CUSTOMERS_READ_CONTACT = Permission("customers:read_contact", frozenset({Role.dispatcher, Role.inspector}))
CUSTOMERS_WRITE = Permission("customers:write", frozenset({Role.dispatcher}))
