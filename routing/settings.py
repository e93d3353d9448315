"""Settings of route planning (`GW_ROUTING_*`): how large a road-network file may be, how long
travel matrices stay cached. Speeds, the circuity and the snapping limit are rules with their source
(`routing/data/routing.json`), not settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings

MIB = 1024 * 1024


class RoutingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_ROUTING_", extra="ignore")

    max_road_file_bytes: int = Field(default=200 * MIB, ge=1024,
                                     description="Largest road-network file (.osm.pbf or .gpkg) accepted")
    travel_cache_seconds: int = Field(default=7 * 24 * 3600, ge=60,
                                      description="How long a travel matrix stays in Redis; a new road "
                                                  "import makes old entries unused at once (the key "
                                                  "carries the network version)")
    travel_cache_timeout_s: float = Field(default=0.5, gt=0, le=10,
                                          description="Socket timeout of the travel cache: a hung Redis "
                                                      "must not hold planning (it computes instead)")


def routing_settings(settings: Settings) -> RoutingSettings:
    return settings.section(RoutingSettings)
