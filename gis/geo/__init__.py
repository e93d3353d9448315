"""The geometry library every domain uses: CRS parsing and transformation (`crs`), strict RFC 7946
geometry reading with limits (`geometry`) and the GeoJSON schema of the API (`geojson_schema`).
No database, no domain: pure functions over shapely and pyproj."""
