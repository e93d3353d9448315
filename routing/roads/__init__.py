"""The road network travel times are computed on: imported from an OpenStreetMap extract or a
GeoPackage, split at junctions into the graph pgRouting walks."""
