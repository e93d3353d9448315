"""Does PostgreSQL's JIT compilation pay for GridWarden's queries? `./gw bench jit` measures it on the
full SimBench set (its own database, `gridwarden_bench`): the two heaviest statements of a batch of
1,000 screenings (gis/screening/sql.py: the zone query, ZONE_PARTS, and the facilities query,
FACILITIES), replayed on one connection with `jit = off`, `jit = on`, and jit on with inlining and
optimisation as the 10x estimates switch them on (see ARMS), interleaved round by round so that
caches and machine load weigh on all alike, plus the JIT compile time PostgreSQL reports (EXPLAIN
ANALYZE).

Why this decides the role's setting: the planner's row estimates for the spatial joins grow with the
tables, so the estimated cost of these statements passes `jit_above_cost` (100,000) although they
run in tens to hundreds of milliseconds; JIT then compiles them on every execution (PostgreSQL
caches no compiled code), and at the 10x network the compile time (389 ms for the zone query,
1,015 ms for the facilities query, issue 14) exceeded the work compiled. No statement of the API or
the jobs runs long enough on its rows to win a compile back, so the application role has
`jit = off` (devstack/provisioning.py, `ALTER ROLE gridwarden_app SET jit = off`), and every
connection also sets it from `GW_DATABASE_JIT` (default off), which stays the switch to try it on.

Measured (2 cores, load average 4-5, full SimBench, batch of 1,000, medians of 6 interleaved runs):
zone query off 729 ms | on 730 ms (1.00) | full 1,016 ms (1.39, compile 633 ms); facilities query
off 772 ms | on 749 ms (0.97) | full 1,305 ms (1.69, compile 1,209 ms). Plain JIT wins nothing at
1x, and the compilation the larger network's estimates switch on costs more than the work.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from typing import Any

from sqlalchemy import Engine, text

from bench.common import Statement, bench_user, record_sql
from bench.screening import _screening_work, ensure_full_simbench, sample_items
from core.database import create_job_engine
from core.permissions import Role
from core.settings import JobSettings, Settings

BATCH = 1000
ROUNDS = 6  # per setting; interleaved, so 12 replays of each statement
QUERIES = {"zone query (ZONE_PARTS)": "JOIN line_zones z ON ST_DWithin(z.centre",
           "facilities query (FACILITIES)": "hits AS MATERIALIZED"}


def _statements(engine: Engine, settings: Settings) -> dict[str, list[Statement]]:
    """The zone and facilities statements a batch of 1,000 screenings sends (recorded, rolled back)."""
    with engine.connect() as conn:
        anchors = [tuple(r) for r in conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, 0.5) AS p FROM lines "
            "WHERE deleted_at IS NULL) s")).all()]
    actor, _ = bench_user(settings, engine, Role.approver)
    items = sample_items(anchors, BATCH, random.Random(14))
    _, recorded = record_sql(engine, _screening_work(settings, actor, items, batch=True))
    return {name: [s for s in recorded if marker in s.sql] for name, marker in QUERIES.items()}


# The three settings compared. At 1x the statements' estimated cost (about 225,000-260,000) passes
# jit_above_cost (100,000) but not jit_inline_above_cost / jit_optimize_above_cost (500,000); at 10x
# the estimates pass those too, and PostgreSQL inlines and optimises as well (the compile times of
# issue 14). "full" lowers those two thresholds below the 1x estimates so the 1x statements get
# the compilation the 10x estimates give them.
ARMS: dict[str, tuple[str, ...]] = {
    "off": ("SET jit = off",),
    "on": ("SET jit = on", "RESET jit_inline_above_cost", "RESET jit_optimize_above_cost"),
    "full": ("SET jit = on", "SET jit_inline_above_cost = 100000", "SET jit_optimize_above_cost = 100000"),
}


def _replay(cursor: Any, statements: list[Statement], arm: str) -> float:
    for setting in ARMS[arm]:
        cursor.execute(setting)
    started = time.perf_counter()
    for statement in statements:
        cursor.execute(statement.sql, statement.params)
        cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def _compile_ms(cursor: Any, statements: list[Statement], arm: str) -> tuple[float, float]:
    """JIT compile time (generation + inlining + optimisation + emission) PostgreSQL reports under
    `arm`, summed over the statements, and the planner's total estimated cost."""
    for setting in ARMS[arm]:
        cursor.execute(setting)
    compile_ms = cost = 0.0
    for statement in statements:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql, statement.params)
        plan = cursor.fetchone()[0]
        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
        compile_ms += float(plan.get("JIT", {}).get("Timing", {}).get("Total", 0.0))
        cost += float(plan["Plan"]["Total Cost"])
    return compile_ms, cost


def main() -> None:
    settings = Settings()
    # The bench's statements run under the jobs' statement timeout: with jit on they may take long.
    engine = create_job_engine(settings.database, settings.section(JobSettings))
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"database {engine.url.database}")
    lines = ensure_full_simbench(engine)
    with engine.connect() as conn:
        role_config = conn.execute(text("SELECT rolconfig FROM pg_roles WHERE rolname = current_user")).scalar()
        jit_above = conn.execute(text("SHOW jit_above_cost")).scalar()
    print(f"{lines} lines; role settings of {engine.url.username}: {role_config}; jit_above_cost {jit_above}")

    statements = _statements(engine, settings)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert connection is not None
    try:
        with connection.cursor() as cursor:
            for name, batch in statements.items():
                _replay(cursor, batch, "off")  # warm the caches once, outside the figures
                times: dict[str, list[float]] = {arm: [] for arm in ARMS}
                arms = list(ARMS)
                for i in range(ROUNDS):
                    for arm in arms[i % len(arms):] + arms[:i % len(arms)]:  # each arm first in turn
                        times[arm].append(_replay(cursor, batch, arm))
                compile_on, cost = _compile_ms(cursor, batch, "on")
                compile_full, _ = _compile_ms(cursor, batch, "full")
                off = statistics.median(times["off"])
                figures = " | ".join(
                    f"jit {arm} median {statistics.median(times[arm]):.0f} ms (min {min(times[arm]):.0f})"
                    + ("" if arm == "off" else f", /off {statistics.median(times[arm]) / off:.2f}")
                    for arm in ARMS)
                print(f"{name}: {len(batch)} statement(s) for {BATCH} screenings, estimated cost {cost:,.0f}: "
                      f"{figures}; JIT compile on {compile_on:.0f} ms, full {compile_full:.0f} ms")
            cursor.execute("RESET ALL")
        connection.rollback()
    finally:
        raw.close()
        engine.dispose()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
