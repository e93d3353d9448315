"""What an import did and which road network is in use: the service's answers and the API's bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RoadImportOut(BaseModel):
    import_id: int = Field(description="The network version this file is (the latest import is in use)")
    unchanged: bool = Field(description="The file is the network already in use: nothing was changed")
    filename: str
    file_format: str = Field(description="osm_pbf | gpkg")
    sha256: str
    edges: int
    vertices: int
    skipped: dict[str, int] = Field(description="Ways or features left out, by reason")


class RoadNetworkOut(BaseModel):
    version: int | None = Field(description="The import in use; null: no network, travel is estimated")
    filename: str | None
    file_format: str | None
    edges: int
    vertices: int
    skipped: dict[str, int]
    imported_at: datetime | None
    bbox: tuple[float, float, float, float] | None = Field(description="[west, south, east, north], EPSG:4326")
