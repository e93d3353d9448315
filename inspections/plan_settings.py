"""Settings of the inspection plans (`GW_PLANS_*`): when the daily plan job runs (what "today" is
for it comes from the utility's local time zone, `inspections/data/local_time.json`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings
from inspections.policy import local_timezone


class PlanSettings(BaseSettings):
    """When the daily plan job runs and whose calendar day it plans for."""

    model_config = SettingsConfigDict(env_prefix="GW_PLANS_", extra="ignore")

    run_hour_utc: int = Field(default=17, ge=0, le=23,
                              description="Hour (UTC) of the daily plan job; 17:00 UTC is 01:00 in Asia/Shanghai, "
                                          "after the day has begun there and after the cases' overdue check")
    run_minute_utc: int = Field(default=0, ge=0, le=59, description="Minute of that hour")

    @property
    def zone(self) -> ZoneInfo:
        """The utility's zone (`inspections/data/local_time.json`): the plan job's default run day is
        today there, and a task's window runs from local midnight to local midnight."""
        return local_timezone()


def plan_settings(settings: Settings) -> PlanSettings:
    return settings.section(PlanSettings)
