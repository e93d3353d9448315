"""The Solomon VRPTW instances (issue 12 §4): reader, the product's `Problem` for them, and an
independent check of a solution in floating point.

Conventions (`shared/benchmarks/vrptw/README.md`): customer 0 is the depot; travel time = travel
distance = the Euclidean distance as a float; a vehicle waits when early and must start service by the
due date; every customer served, capacity respected, at most the instance's vehicle count.

The engine computes in integers, so the instance is scaled by `SCALE`: distances are rounded (they
are only the objective) but travel times are rounded UP, so an order the engine finds on time is on
time in floats too (windows and service times are integers in the files, exact once scaled). The
reported cost is recomputed in floats from the visiting order, never read from the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyvrp

from routing.problem import Crew, IntMatrix, Job, Point, Problem, TravelMatrices, TravelMatrix, Window

REPO_ROOT = Path(__file__).resolve().parent.parent
SCALE = 100
# Any mode name the engine accepts: the benchmark's vehicles all travel on the same Euclidean matrix.
MODE = "car"
FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Instance:
    """One Solomon instance; row 0 of every array is the depot."""

    name: str
    vehicles: int
    capacity: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def customers(self) -> int:
        return len(self.x) - 1

    def distances(self) -> FloatMatrix:
        xy = np.column_stack([self.x, self.y])
        return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))


def data_dir() -> Path:
    """The benchmark data: `shared/` beside the checkout (/work/main) or beside its worktrees' folder."""
    for shared in (REPO_ROOT.parent / "shared", REPO_ROOT.parent.parent / "shared"):
        if (shared / "benchmarks" / "vrptw").is_dir():
            return shared / "benchmarks" / "vrptw"
    raise FileNotFoundError(f"Solomon data (shared/benchmarks/vrptw) not found beside {REPO_ROOT}")


def instance_names() -> list[str]:
    return sorted(path.stem for path in (data_dir() / "solomon").glob("*.txt"))


def read_instance(path: Path) -> Instance:
    """Parse Solomon's text format: name, VEHICLE NUMBER/CAPACITY, then one row of 7 numbers per customer."""
    lines = [line.split() for line in path.read_text().splitlines()]
    words = [line for line in lines if line]
    vehicle_row = next(i for i, line in enumerate(words) if line[0] == "NUMBER") + 1
    vehicles, capacity = (int(v) for v in words[vehicle_row][:2])
    rows = [line for line in words[vehicle_row + 1:] if len(line) == 7 and line[0].isdigit()]
    columns = list(zip(*[[float(v) for v in row] for row in rows], strict=True))
    return Instance(name=words[0][0], vehicles=vehicles, capacity=capacity, x=columns[1], y=columns[2],
                    demand=tuple(int(v) for v in columns[3]), ready=tuple(int(v) for v in columns[4]),
                    due=tuple(int(v) for v in columns[5]), service=tuple(int(v) for v in columns[6]))


def load(name: str) -> Instance:
    return read_instance(data_dir() / "solomon" / f"{name}.txt")


def best_known(name: str) -> float:
    """The distance-only best known cost (`<name>_distance` of BKS.json)."""
    table = json.loads((data_dir() / "BKS.json").read_text())
    return float(table[f"{name}_distance"]["best_known_cost"])


def scaled_matrices(instance: Instance) -> tuple[IntMatrix, IntMatrix]:
    """(distances, durations) x SCALE: distances rounded, durations rounded up (see the module doc)."""
    exact = instance.distances() * SCALE
    return np.rint(exact).astype(np.int64), np.ceil(exact - 1e-9).astype(np.int64)


def problem_data(instance: Instance) -> pyvrp.ProblemData:
    """The instance straight as PyVRP data (one vehicle type, depot 0): what the search is tuned on."""
    distances, durations = scaled_matrices(instance)
    n = instance.customers
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(x=instance.x[i], y=instance.y[i]) for i in range(n + 1)],
        clients=[pyvrp.Client(location=i, delivery=[instance.demand[i]],
                              service_duration=instance.service[i] * SCALE,
                              tw_early=instance.ready[i] * SCALE, tw_late=instance.due[i] * SCALE)
                 for i in range(1, n + 1)],
        depots=[pyvrp.Depot(location=0, tw_early=instance.ready[0] * SCALE, tw_late=instance.due[0] * SCALE)],
        vehicle_types=[pyvrp.VehicleType(num_available=instance.vehicles, capacity=[instance.capacity],
                                         tw_early=instance.ready[0] * SCALE, tw_late=instance.due[0] * SCALE)],
        # PyVRP's stub spells the matrices `np.ndarray[int]`, which no real int64 array matches.
        distance_matrices=[distances], duration_matrices=[durations])  # type: ignore[list-item]


def solution_routes(solution: pyvrp.Solution) -> list[list[int]]:
    """Customer numbers (1..n, the file's) per non-empty route of a solution of `problem_data`."""
    return [[activity.idx + 1 for activity in route if activity.is_client()] for route in solution.routes()]


def job_key(customer: int) -> str:
    return f"customer:{customer}"


def to_problem(instance: Instance) -> tuple[Problem, TravelMatrices]:
    """The instance as the product sees a day: customers as Jobs, identical vehicles as Crews starting
    and ending at the depot within its window, travel from the scaled Euclidean matrix (x, y used as
    the points' coordinates: the engine reads only the matrices)."""
    depot = Point(lon=instance.x[0], lat=instance.y[0])
    crews = tuple(Crew(key=f"vehicle:{k + 1}", start=depot, end=depot, shift_start=instance.ready[0] * SCALE,
                       shift_end=instance.due[0] * SCALE, mode=MODE, capacity=instance.capacity)
                  for k in range(instance.vehicles))
    jobs = tuple(Job(key=job_key(i), point=Point(lon=instance.x[i], lat=instance.y[i]),
                     service_s=instance.service[i] * SCALE, demand=instance.demand[i],
                     window=Window(instance.ready[i] * SCALE, instance.due[i] * SCALE))
                 for i in range(1, instance.customers + 1))
    problem = Problem(origin=datetime(2000, 1, 1, tzinfo=UTC), jobs=jobs, crews=crews)
    # Points are [start, end] per crew (all the depot), then the customers in order.
    node_of_point = [0] * (2 * len(crews)) + list(range(1, instance.customers + 1))
    distances, durations = scaled_matrices(instance)
    pick = np.ix_(node_of_point, node_of_point)
    travel = TravelMatrices(by_mode={MODE: TravelMatrix(durations_s=durations[pick], distances_m=distances[pick])},
                            source="estimate")
    return problem, travel


def assignment_routes(routes: dict[str, tuple[str, ...]]) -> list[list[int]]:
    """Customer numbers per non-empty crew route of an `Assignment` made for `to_problem`."""
    return [[int(key.split(":")[1]) for key in keys] for keys in routes.values() if keys]


def cost(instance: Instance, routes: list[list[int]]) -> float:
    """Total distance in floats, depot to depot."""
    d = instance.distances()
    return sum(float(d[a, b]) for route in routes for a, b in zip([0, *route], [*route, 0], strict=True))


def violations(instance: Instance, routes: list[list[int]]) -> list[str]:
    """What breaks the README's conventions, recomputed in floats from the visiting order alone."""
    d = instance.distances()
    found: list[str] = []
    served = sorted(c for route in routes for c in route)
    if served != list(range(1, instance.customers + 1)):
        found.append(f"customers served {len(served)} (distinct {len(set(served))}) of {instance.customers}")
    if len([r for r in routes if r]) > instance.vehicles:
        found.append(f"{len(routes)} routes > {instance.vehicles} vehicles")
    for no, route in enumerate(routes):
        if (load_ := sum(instance.demand[c] for c in route)) > instance.capacity:
            found.append(f"route {no}: load {load_} > capacity {instance.capacity}")
        time, here = float(instance.ready[0]), 0
        for c in route:
            time = max(time + float(d[here, c]), instance.ready[c])
            if time > instance.due[c] + 1e-6:
                found.append(f"route {no}: customer {c} served at {time:.3f} > due {instance.due[c]}")
            time, here = time + instance.service[c], c
        if (back := time + float(d[here, 0])) > instance.due[0] + 1e-6:
            found.append(f"route {no}: back at the depot at {back:.3f} > {instance.due[0]}")
    return found


def gap_pct(value: float, bks: float) -> float:
    return 100.0 * (value - bks) / bks

