"""Route planning: travel times over the road network, the solver, plans and their publication
(issue 12)."""

from core.registry import Domain
from core.settings import Settings
from routing.permissions import ROUTES_PLAN, ROUTING_PERMISSIONS


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    # Plans whose solve message or worker was lost are sent again (never stuck queued or solving).
    return {"relay-route-plans": {"task": "routing.relay", "schedule": float(settings.worker.relay_interval_s)}}


DOMAIN = Domain(
    name="routing",
    models=("routing.models",),
    routers=("api.routers.route_plans:router", "api.routers.roads:router"),
    tasks=("routing.tasks",),
    beat=beat,
    on_worker_ready=("routing.relay",),
    permissions=ROUTING_PERMISSIONS,
    # A plan solved or published is news for the dispatch desk.
    event_visibility=(("route_plan", ROUTES_PLAN),),
    commands=("routing.roads.cli:add_commands",),
)
