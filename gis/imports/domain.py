"""Imports of network data (SimBench, GeoJSON, GeoPackage) as background jobs, and the demo network."""

from core.registry import Domain
from core.settings import Settings
from gis.imports.permissions import IMPORTS_RUN


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    # Import jobs whose message was lost (queue down at commit) or whose worker died.
    return {"relay-import-jobs": {"task": "imports.relay", "schedule": float(settings.worker.relay_interval_s)}}


DOMAIN = Domain(
    name="imports",
    models=("gis.imports.models",),
    routers=("api.routers.imports:router",),
    tasks=("gis.imports.tasks",),
    beat=beat,
    # A worker that starts (e.g. replacing one that was killed) first relays, so a job orphaned by a
    # lost worker resumes now rather than at the next beat or after the broker's visibility timeout.
    on_worker_ready=("imports.relay",),
    permissions=(IMPORTS_RUN,),
    commands=("gis.imports.cli:add_commands",),
    demo_data=("gis.imports.cli:load_demo_network",),
)
