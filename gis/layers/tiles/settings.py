"""Tile settings (`GW_TILES_*`): how deep the grid goes and how long a cached tile is kept."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class TileSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_TILES_", extra="ignore")

    max_zoom: int = Field(default=22, ge=0, le=30,
                          description="Deepest zoom served (MapLibre's own limit is 22 for a map, 24 for data)")
    cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=1,
                             description="A cached tile is dropped this long after it was made. Entries are "
                                         "keyed by the tile's version, so one replaced by a change is never "
                                         "served again; the time only bounds what Redis keeps of old versions")
    # Every tile is drawn again once after the daily prune: at night in the utility's time zone
    # (Asia/Shanghai 03:00 = 19:00 UTC), when few maps are open.
    prune_hour_utc: int = Field(default=19, ge=0, le=23, description="Hour (UTC) of the daily change-log prune")
    prune_minute_utc: int = Field(default=0, ge=0, le=59, description="Minute of that hour")


def tile_settings(settings: Settings) -> TileSettings:
    return settings.section(TileSettings)
