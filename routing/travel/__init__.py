"""Travel times and distances between a plan's points, and the lines its routes are drawn with:
along the imported road network (pgRouting) when there is one, else estimated."""

from routing.travel.estimate import estimate_matrices
from routing.travel.geometry import route_geometry
from routing.travel.matrices import build_matrices, check_points
from routing.travel.snap import OffRoadNetwork

__all__ = ["OffRoadNetwork", "build_matrices", "check_points", "estimate_matrices", "route_geometry"]
