"""Bulk imports: SimBench CSV grids and a utility's own GeoJSON / GeoPackage layers."""
