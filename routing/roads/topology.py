"""Road lines into a graph: each line is split at its junctions (a vertex key that occurs more than
once over all lines, including twice in one line) so that every edge runs from a junction or dead
end to the next; the graph's vertices are those ends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from routing.roads.lines import RoadLine


@dataclass(frozen=True)
class Edge:
    line: RoadLine
    source: int  # index into RoadGraph.vertices
    target: int
    coordinates: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RoadGraph:
    vertices: list[tuple[float, float]]
    edges: list[Edge]


def build_graph(lines: Sequence[RoadLine]) -> RoadGraph:
    uses = Counter(key for line in lines for key in line.keys)
    vertex_of: dict[Hashable, int] = {}
    vertices: list[tuple[float, float]] = []

    def vertex(key: Hashable, coordinate: tuple[float, float]) -> int:
        if key not in vertex_of:
            vertex_of[key] = len(vertices)
            vertices.append(coordinate)
        return vertex_of[key]

    edges: list[Edge] = []
    for line in lines:
        start = 0
        for i in range(1, len(line.keys)):
            if i == len(line.keys) - 1 or uses[line.keys[i]] > 1:
                edges.append(Edge(line=line, source=vertex(line.keys[start], line.coordinates[start]),
                                  target=vertex(line.keys[i], line.coordinates[i]),
                                  coordinates=line.coordinates[start:i + 1]))
                start = i
    return RoadGraph(vertices=vertices, edges=edges)
