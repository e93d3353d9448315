"""Settings of offline sync (`GW_SYNC_*`): device token lifetime, the pull's scope and page size,
the clock-skew threshold and how long GPS tracks are kept."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings

# The managed layers (gis.layers.catalogue) a device pulls around its tasks; derived zones come too.
DEFAULT_PULL_LAYERS = ("substations", "transformers", "lines", "poles", "switches", "manual", "customers")


class SyncSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_SYNC_", extra="ignore")

    device_token_days: int = Field(default=30, ge=1, le=365,
                                   description="Lifetime of a device token: devices stay offline for days; "
                                               "revoking the device ends every token at once")
    pull_radius_m: float = Field(default=500, gt=0, le=20_000,
                                 description="Assets, zones and customers within this distance of an "
                                             "inspector's tasks are pulled with them")
    pull_recently_closed_days: int = Field(default=7, ge=0,
                                           description="Closed or cancelled tasks stay on the device this long")
    pull_layers: tuple[str, ...] = Field(default=DEFAULT_PULL_LAYERS,
                                         description="Managed map layers pulled around the tasks")
    pull_default_page_size: int = Field(default=500, ge=1)
    pull_max_page_size: int = Field(default=2000, ge=1)
    clock_skew_threshold_s: float = Field(default=120, gt=0,
                                          description="A device clock further than this from the server's is "
                                                      "flagged (its times are not to be trusted)")
    ping_retention_days: int = Field(default=90, ge=1, description="GPS pings older than this are deleted")
    ping_retention_hour_utc: int = Field(default=17, ge=0, le=23,
                                         description="Hour (UTC) of the daily retention job (01:00 in Asia/Shanghai)")
    ping_retention_minute_utc: int = Field(default=0, ge=0, le=59)
    positions_track_max_points: int = Field(default=5000, ge=1, description="Most points one track answer holds")


def sync_settings(settings: Settings) -> SyncSettings:
    return settings.section(SyncSettings)
