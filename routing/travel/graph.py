"""The imported road network as pgRouting sees it for one travel mode.

The network's version is the latest `road_imports` row (when it has edges). Speeds per road class
and mode are data (`routing/data/routing.json`); pgRouting takes its edges as an SQL text, which
cannot carry bound parameters, so the speeds of the mode are written with bound parameters into a
temporary table the edges SQL joins (`pg_temp.routing_speeds`, dropped at commit). A class with no
speed for the mode (excluded, or 0 km/h) has no row there: the join leaves its roads out."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from routing.models import RoadImport
from routing.roads.lines import known_classes
from routing.rules import routing_rules
from routing.travel.estimate import metres_per_second

# cost in seconds = metres / (metres per second); reverse_cost -1 = not traversable backwards (a oneway
# road, for a mode that keeps to oneway rules: a walking meter reader does not).
EDGES_SQL = (
    "SELECT r.id, r.source_vertex AS source, r.target_vertex AS target, "
    "r.{measure} AS cost, CASE WHEN r.oneway AND r.respects_oneway THEN -1 ELSE r.{measure} END AS reverse_cost "
    "FROM (SELECT r.id, r.source_vertex, r.target_vertex, r.oneway, s.respects_oneway, r.length_m AS length, "
    "r.length_m / s.mps AS duration FROM roads r JOIN pg_temp.routing_speeds s ON s.road_class = r.road_class) r"
)


def edges_sql(measure: str) -> str:
    """The edges SQL costed on `duration` (seconds, the fastest path) or `length` (metres, the
    shortest path). `measure` is one of two fixed column names, never a value from a request."""
    if measure not in {"duration", "length"}:
        raise ValueError(f"unknown edge measure {measure!r}")
    return EDGES_SQL.format(measure=measure)


def network_version(db: Session) -> int | None:
    """The id of the road import in use, or None when no network with roads is loaded (then travel
    is estimated)."""
    latest = db.execute(select(RoadImport.id, RoadImport.edges).order_by(RoadImport.id.desc()).limit(1)).first()
    if latest is None or latest.edges == 0:
        return None
    return int(latest.id)


@cache
def mode_speeds(mode: str) -> dict[str, float]:
    """Metres per second on each road class the mode may use. An import keeps only the classes
    `routing.json` knows (`known_classes`), so these cover every road of the network."""
    speeds = routing_rules().mode(mode)
    return {road_class: metres_per_second(speeds.kmh(road_class))
            for road_class in sorted(known_classes()) if speeds.kmh(road_class) > 0}


def load_speed_table(db: Session, *, mode: str) -> None:
    """Fill `pg_temp.routing_speeds` (class, metres per second, whether oneway roads bind the mode)
    for the edges SQL, with bound values."""
    speeds = mode_speeds(mode)
    db.execute(text("CREATE TEMP TABLE IF NOT EXISTS routing_speeds (road_class text PRIMARY KEY, mps float8, "
                    "respects_oneway boolean) ON COMMIT DROP"))
    db.execute(text("TRUNCATE pg_temp.routing_speeds"))
    if speeds:
        db.execute(text("INSERT INTO pg_temp.routing_speeds (road_class, mps, respects_oneway) "
                        "SELECT c, m, :oneway FROM unnest(CAST(:classes AS text[]), CAST(:mps AS float8[])) AS s(c, m)"),
                   {"classes": list(speeds), "mps": list(speeds.values()),
                    "oneway": routing_rules().mode(mode).respects_oneway})
