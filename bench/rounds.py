"""Meter-reading rounds on the SimBench customers (issue 12 §4): 5,000 stops, 10 readers, the 4 days
of a reading window, planned within 60 s on this machine, with the balance of working time.

The SimBench demo grid (MV1.101 and its LV grids, ~5,400 customers) is imported into the benchmark
database, the reading books rebuilt, ten inspectors made, and the window read from the database the
way the service reads it (`routing.reading_problem`); a deterministic sample of 5,000 customers is
planned. Travel: the estimate (on foot), and pgRouting too when a road network is loaded.

Reference in the same run, so the figures can be judged on a loaded machine: the naive split (the
books' reading order cut into equal consecutive runs, reader by reader and day by day) sequenced
by the same engine with the same time per stop: what the compact, balanced split is worth.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from core.context import Actor
from core.database import create_db_engine, create_session_factory, unit_of_work
from core.permissions import Role
from core.settings import Settings
from core.users import service as user_service
from core.users.schemas import UserCreate
from gis.imports.simbench import DEMO_SUBNET, default_source_dir, import_simbench
from gis.network.models import Transformer
from inspections.readings.books import rebuild_books
from inspections.readings.models import ReadingBook
from routing.problem import Job, Problem
from routing.reading_problem import ReadingInput, reading_stops
from routing.results import Unassigned
from routing.rounds import Round, RoundsResult, TravelFor, balance, plan_rounds
from routing.solver.engine import Engine, default_engine
from routing.solver.planner import solve_plan
from routing.travel import build_matrices, estimate_matrices
from routing.travel.graph import network_version

STOPS, READERS, PERIOD, SEED = 5000, 10, "2026-11", 1
TARGET_S = 60.0
# The planner's own limit: the rest of the minute is margin for a loaded machine.
TIME_LIMIT_S = 45.0


def _ratio(value: float | None) -> str:
    """max/min working time; absent when someone had no work at all."""
    return "n/a (someone has no work)" if value is None else f"{value:.2f}"


def window(settings: Settings) -> ReadingInput:
    engine = create_db_engine(settings.database)
    started = time.perf_counter()
    import_simbench(engine=engine, source_dir=default_source_dir(), subnet=DEMO_SUBNET, actor=Actor.system("bench"))
    factory = create_session_factory(engine)
    with unit_of_work(factory) as db:
        rebuild_books(db=db, actor=Actor.system("bench"), now=datetime.now(UTC))
        readers = []
        for n in range(1, READERS + 1):
            user = user_service.get_by_username(db=db, username=f"bench-reader-{n}")
            if user is None:
                user = user_service.create(db=db, actor=Actor.system("bench"), user_in=UserCreate(
                    username=f"bench-reader-{n}", role=Role.inspector, password=f"bench-reader-{n}-password"))
            readers.append(user.id)
    print(f"SimBench {DEMO_SUBNET} imported, books rebuilt: {time.perf_counter() - started:.1f} s")
    with factory() as db:
        books = list(db.scalars(select(ReadingBook.id).join(Transformer, Transformer.id == ReadingBook.transformer_id)
                                .where(Transformer.external_id.startswith(f"{DEMO_SUBNET}-"),
                                       ReadingBook.customer_count > 0).order_by(ReadingBook.id)))
        started = time.perf_counter()
        problem = reading_stops(db, period=PERIOD, book_ids=books, reader_ids=readers)
        print(f"window read from the database: {len(books)} books, {len(problem.stops)} customers, "
              f"{len(problem.origin_days)} days: {time.perf_counter() - started:.2f} s")
    engine.dispose()
    return problem


def sample(stops: Sequence[Job]) -> list[Job]:
    """STOPS customers, the same ones every run, kept in reading order."""
    if len(stops) <= STOPS:
        return list(stops)
    keep = set(random.Random(SEED).sample(range(len(stops)), STOPS))
    return [stop for n, stop in enumerate(stops) if n in keep]


def show(name: str, result: RoundsResult, wall_s: float, problem: ReadingInput) -> None:
    b = result.balance
    hours = 3600.0
    travel_s = sum(r.route.travel_s for r in result.rounds)
    travel_m = sum(r.route.travel_m for r in result.rounds)
    shift_end = {reader.key: reader.shift_end for reader in problem.readers}
    over = sum(1 for r in result.rounds if r.route.return_end > shift_end[r.reader_key])
    print(f"{name}: wall {wall_s:.1f} s; {len(result.rounds)} rounds; "
          f"{sum(len(r.route.stops) for r in result.rounds)} stops read, {len(result.unassigned)} unassigned; "
          f"travel {travel_m / 1000:.1f} km, {travel_s / hours:.1f} h; rounds past the shift end: {over}")
    for who in ("reader", "round"):
        print(f"  working time per {who} (walk + read): min {b[f'{who}_work_min_s'] / hours:.2f} h, "
              f"mean {b[f'{who}_work_mean_s'] / hours:.2f} h, max {b[f'{who}_work_max_s'] / hours:.2f} h, "
              f"stdev {b[f'{who}_work_stdev_s'] / hours:.2f} h, max/min {_ratio(b.get(f'{who}_work_max_over_min'))}")


def naive(problem: ReadingInput, stops: list[Job], engine: Engine, travel_for: TravelFor, time_per_stop_s: float
          ) -> RoundsResult:
    """Reading order cut into readers x days equal runs, each sequenced by the same engine."""
    days = len(problem.origin_days)
    runs = READERS * days
    rounds: list[Round] = []
    unassigned: list[Unassigned] = []
    for n in range(runs):
        chunk = stops[n * len(stops) // runs:(n + 1) * len(stops) // runs]
        reader = problem.readers[n // days]
        one = Problem(origin=problem.origin_days[n % days], jobs=tuple(chunk), crews=(reader,))
        travel = travel_for(one.points(), {reader.mode})
        day = solve_plan(one, travel, engine=engine, time_limit_s=time_per_stop_s * len(chunk), seed=SEED)
        rounds.extend(Round(reader_key=reader.key, day_no=n % days, route=route) for route in day.routes)
        unassigned.extend(day.unassigned)
    return RoundsResult(rounds=tuple(rounds), unassigned=tuple(unassigned), balance=balance(rounds, problem.readers),
                        travel_source="estimate")


def planned(name: str, problem: ReadingInput, stops: list[Job], engine: Engine, travel_for: TravelFor) -> float:
    """Plan and print one run; the seconds per stop its search had (for the reference run)."""
    progress: list[tuple[float, float]] = []
    started = time.perf_counter()
    result = plan_rounds(origin_days=problem.origin_days, stops=stops, readers=problem.readers,
                         travel_for=travel_for, engine=engine, time_limit_s=TIME_LIMIT_S, seed=SEED,
                         on_progress=lambda f: progress.append((f, time.perf_counter() - started)))
    wall = time.perf_counter() - started
    split_s = progress[0][1] if progress else float("nan")
    show(f"{name} ({result.travel_source})", result, wall, problem)
    print(f"  split into areas and days: {split_s:.2f} s; target {TARGET_S:.0f} s: "
          f"{'met' if wall <= TARGET_S else 'MISSED'}")
    sizes = [len(r.route.stops) for r in result.rounds]
    print(f"  stops per round: min {min(sizes)}, median {statistics.median(sizes):.0f}, max {max(sizes)}")
    return (wall - split_s) / max(1, len(stops))


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    settings = Settings()
    problem = window(settings)
    stops = sample(problem.stops)
    engine = default_engine()
    engine_name = engine.name
    print(f"engine: {engine_name}; {len(stops)} stops, {READERS} readers, {len(problem.origin_days)} days; "
          f"planner limit {TIME_LIMIT_S:.0f} s")
    per_stop_s = planned("balanced rounds", problem, stops, engine, estimate_matrices)
    started = time.perf_counter()
    reference = naive(problem, stops, engine, estimate_matrices, per_stop_s)
    show("reference: reading order cut into equal runs", reference, time.perf_counter() - started, problem)
    db_engine = create_db_engine(settings.database)
    with create_session_factory(db_engine)() as db:
        if network_version(db) is None:
            print("no road network loaded (./gw roads import FILE): estimate only")
        else:
            planned("balanced rounds", problem, stops, engine,
                    lambda points, modes: build_matrices(db, points=points, modes=modes))
    db_engine.dispose()


if __name__ == "__main__":
    main()
