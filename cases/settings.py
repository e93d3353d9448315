"""Settings of the case workflow (`GW_WORKFLOW_*`): when the overdue check runs, and how far a
site footprint may lie from its location."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class WorkflowSettings(BaseSettings):
    """The case workflow's own settings; its time limits and routing are the case policy (`policy.json`)."""

    model_config = SettingsConfigDict(env_prefix="GW_WORKFLOW_", extra="ignore")

    overdue_check_hour_utc: int = Field(default=16, ge=0, le=23,
                                        description="Hour (UTC) of the daily overdue check; 16:30 UTC is 00:30 "
                                                    "in Asia/Shanghai")
    overdue_check_minute_utc: int = Field(default=30, ge=0, le=59,
                                          description="Minute of that hour: half an hour after local midnight, "
                                                      "so the day's last deadlines have passed")
    max_footprint_distance_m: float = Field(default=1000, gt=0,
                                            description="A site footprint farther than this from the request's "
                                                        "location is taken for a mistake (422)")


def workflow_settings(settings: Settings) -> WorkflowSettings:
    return settings.section(WorkflowSettings)
