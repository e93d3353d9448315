"""OGC API Features (Part 1 Core, Part 2 CRS, Part 3 queryables) over the layer catalogue: what QGIS
and GDAL's OAPIF driver read. The router at `/ogc` (`api.routers.ogc`) calls `service` once per
operation; `crs` parses the CRS and bbox parameters, `html` renders the `f=html` pages."""
