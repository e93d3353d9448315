"""Route planning: travel times over the road network, the solver, plans and their publication
(issue 12)."""

from core.registry import Domain
from routing.permissions import ROUTES_PLAN, ROUTING_PERMISSIONS

DOMAIN = Domain(
    name="routing",
    models=("routing.models",),
    routers=("api.routers.roads:router",),
    tasks=(),
    permissions=ROUTING_PERMISSIONS,
    # A plan solved or published is news for the dispatch desk.
    event_visibility=(("route_plan", ROUTES_PLAN),),
    commands=("routing.roads.cli:add_commands",),
)
