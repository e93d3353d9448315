"""Vector tiles: the change log's tables, its daily prune and the tile settings. The routes live at
/tiles (outside /api/v1, as map clients expect), mounted by the app factory."""

from celery.schedules import crontab

from core.registry import Domain
from core.settings import Settings
from gis.layers.tiles.settings import tile_settings


def beat(settings: Settings) -> dict[str, dict[str, object]]:
    tiles = tile_settings(settings)
    return {"prune-tile-changes": {"task": "tiles.prune_change_log",
                                   "schedule": crontab(hour=tiles.prune_hour_utc, minute=tiles.prune_minute_utc)}}


DOMAIN = Domain(
    name="tiles",
    models=("gis.layers.tiles.models",),
    tasks=("gis.layers.tiles.tasks",),
    beat=beat,
    # The log's epoch row: kept by a test reset (which empties the log and so moves the epoch).
    reference_tables=("tile_state",),
)
