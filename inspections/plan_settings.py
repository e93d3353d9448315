"""Settings of the inspection plans (`GW_PLANS_*`): the utility's time zone, which decides what
"today" is for the daily plan job, and when that job runs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class PlanSettings(BaseSettings):
    """When the daily plan job runs and whose calendar day it plans for."""

    model_config = SettingsConfigDict(env_prefix="GW_PLANS_", extra="ignore")

    timezone: str = Field(default="Asia/Shanghai",
                          description="IANA time zone of the utility: the plan job's default run day is today "
                                      "there, and a task's window runs from local midnight to local midnight")
    run_hour_utc: int = Field(default=17, ge=0, le=23,
                              description="Hour (UTC) of the daily plan job; 17:00 UTC is 01:00 in Asia/Shanghai, "
                                          "after the day has begun there and after the cases' overdue check")
    run_minute_utc: int = Field(default=0, ge=0, le=59, description="Minute of that hour")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def plan_settings(settings: Settings) -> PlanSettings:
    return settings.section(PlanSettings)
