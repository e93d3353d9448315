"""Settings of screening: its limits and the capacity figure it reports (`GW_SCREENING_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import Settings


class ScreeningSettings(BaseSettings):
    """Limits of the screening endpoint and the capacity figure it reports."""

    model_config = SettingsConfigDict(env_prefix="GW_SCREENING_", extra="ignore")

    max_area_m2: float = Field(default=2_000_000, gt=0, description="Largest request area (a 2 km2 site)")
    max_length_m: float = Field(default=20_000, gt=0, description="Longest request line (a trench or route)")
    max_vertices: int = Field(default=10_000, ge=4)
    exact_check_below_m: float = Field(default=1.0, ge=0,
                                       description="Geography distances below this are measured again in the "
                                                   "site's UTM zone: PostGIS 3.3 geography can "
                                                   "report 0 m for a 0.25 m gap (the legal distance must never be "
                                                   "off by the size of the gap)")
    max_batch: int = Field(default=1000, ge=1, le=10_000)
    max_findings: int = Field(default=500, ge=1, description="Findings listed per screening (all are counted)")
    facilities_listed: int = Field(default=50, ge=1, description="A radius rule (blasting: 500 m) lists the "
                                                                 "nearest facilities as findings and counts the rest")
    nearest_transformers: int = Field(default=3, ge=1, le=20,
                                      description="Distribution transformers offered with their spare capacity")
    power_factor: float = Field(default=0.9, gt=0, le=1,
                                description="Spare capacity = rated kVA x power factor - contracted load "
                                            "(DOMAIN.md §4 default 0.9)")
    vehicle_width_m: float = Field(default=2.55, gt=0, le=10,
                                   description="Width of a vehicle whose request gives none: the largest a road "
                                               "vehicle may have without a permit (GB 1589-2016 外廓尺寸限值: 2.55 m), so "
                                               "its side is never assumed farther from a line than it can be")
    distribution_lv_max_kv: float = Field(default=1.0, gt=0,
                                          description="A transformer whose LV side is at or below this feeds "
                                                      "customers directly (a 台区 transformer)")


def screening_settings(settings: Settings) -> ScreeningSettings:
    return settings.section(ScreeningSettings)
