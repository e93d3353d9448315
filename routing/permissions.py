"""Who may plan routes (DOMAIN.md §1): dispatchers plan the crews' days, supervisors too; an
inspector sees the route published for them (their own only); the road network is an administrator's."""

from core.permissions import ADMINISTRATORS_ONLY, EVERY_ROLE, Permission, Role

# Ask for, re-plan and publish routes; read every plan.
ROUTES_PLAN = Permission("routes:plan", frozenset({Role.dispatcher, Role.supervisor}))
# Read the routes published for oneself (an inspector's device); planners read everyone's.
ROUTES_READ_OWN = Permission("routes:read_own", EVERY_ROLE)
# Replace the road network travel times are computed on.
ROADS_IMPORT = Permission("roads:import", ADMINISTRATORS_ONLY)

ROUTING_PERMISSIONS = (ROUTES_PLAN, ROUTES_READ_OWN, ROADS_IMPORT)
