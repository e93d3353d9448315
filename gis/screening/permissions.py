"""Who may screen a site against the protection zones, and read stored screenings."""

from core.permissions import EVERY_ROLE, Permission, Role

# Everyone whose work puts people or plant near lines screens; auditors only read the results.
SCREENINGS_RUN = Permission("screenings:run", frozenset({Role.dispatcher, Role.inspector, Role.approver}))
SCREENINGS_READ = Permission("screenings:read", EVERY_ROLE)
