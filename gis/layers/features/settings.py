"""Settings of OGC API Features (`GW_OGC_*`): page sizes and how far `numberMatched` counts."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class FeaturesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GW_OGC_", extra="ignore")

    title: str = Field(default="GridWarden", max_length=200, description="The landing page's title")
    default_limit: int = Field(default=100, ge=1, description="Items per page when a client sends no limit")
    max_limit: int = Field(default=5000, ge=1,
                           description="Most items one page holds; a larger limit is served as this many "
                                       "(OGC API Features Part 1, /rec/core/limit-response): a page of 5,000 "
                                       "lines is about 2.7 MB of GeoJSON written by the database in one go")
    count_at_most: int = Field(default=100_000, ge=0,
                               description="numberMatched is counted on a first page up to this many rows and "
                                           "left out beyond (and on later pages): an exact count is an index "
                                           "scan of every matching row, cheap up to here")


def features_settings(settings: Settings) -> FeaturesSettings:
    return settings.section(FeaturesSettings)
