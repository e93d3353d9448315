"""Settings of route planning (`GW_ROUTING_*`): how large a road-network file may be, how long
travel matrices stay cached, how long the worker may spend on a plan beyond its solver time limit. Speeds, the circuity and the snapping limit are rules with their source
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
    # Beyond the solver's own limit the worker builds the travel matrices (pgRouting on a large network),
    # schedules, checks and renders: generous for a 2-core machine building a 5,000-point matrix.
    solve_soft_margin_s: float = Field(default=120.0, gt=0,
                                       description="Seconds a plan's solve may run past its time limit before "
                                                   "Celery's soft limit fails it, with the reason")
    solve_hard_margin_s: float = Field(default=180.0, gt=0,
                                       description="Seconds past its time limit after which Celery kills a stuck "
                                                   "solve, and the relay treats a plan still solving as lost")

    def solve_limits(self, time_limit_s: float) -> tuple[float, float]:
        """(soft, hard) Celery time limits of a plan solved within `time_limit_s`."""
        return time_limit_s + self.solve_soft_margin_s, time_limit_s + self.solve_hard_margin_s


def routing_settings(settings: Settings) -> RoutingSettings:
    return settings.section(RoutingSettings)
