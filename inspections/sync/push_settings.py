"""Settings of sync push (`GW_SYNC_PUSH_*`): batch size, backlog age and check interval. The
clock-skew threshold is sync's (`GW_SYNC_CLOCK_SKEW_THRESHOLD_S`, inspections.sync.settings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class PushSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_SYNC_PUSH_", extra="ignore")

    max_batch_items: int = Field(default=500, ge=1, le=5000,
                                 description="Most items in one push; a larger batch is refused (413) "
                                             "and the device splits it")
    backlog_max_age_hours: float = Field(default=72.0, gt=0,
                                         description="An item waiting this long for its parent becomes "
                                                     "'expired', a dispatcher's to resolve (three days "
                                                     "covers a long weekend offline)")
    savepoint_group_items: int = Field(default=25, ge=1, le=500,
                                       description="Items applied under one savepoint; a group with a failing "
                                                   "item is run again item by item (a savepoint costs two "
                                                   "round trips; failures are rare)")
    backlog_check_minutes: int = Field(default=5, ge=1, le=1440,
                                       description="How often the periodic job applies waiting items "
                                                   "and ages old ones out")


def push_settings(settings: Settings) -> PushSettings:
    return settings.section(PushSettings)
