"""Vector tiles: the change log's tables and the tile settings. The routes live at /tiles (outside
/api/v1, as map clients expect), mounted by the app factory."""

from core.registry import Domain

DOMAIN = Domain(
    name="tiles",
    models=("gis.layers.tiles.models",),
    # The log's epoch row: kept by a test reset (which empties the log and so moves the epoch).
    reference_tables=("tile_state",),
)
