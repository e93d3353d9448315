"""A switch operated or an element deleted through the API patches every process's view of the
shared graph (just the touched edges) instead of reloading the whole network, and traces stay
exactly right.

Each API process maps the shared snapshot and keeps its own overlay; two app instances stand for two
processes here. Whether a cache patched or opened a snapshot is visible on its counters (`patches`,
`full_loads`); that the patched graph is right is checked against a graph loaded afresh from the
database into plain dicts (`load_graph`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from core.permissions import Role
from core.settings import Settings
from gis.network.topology import ElementType, GraphCache, load_graph
from tests.gis.network.demo_grid import customers_cut_off, fewest_cut_off, graph_shape

SHARED_DATA = True


@pytest.fixture
def second_app(settings: Settings, demo_grid: None) -> Iterator[TestClient]:
    """Another API process on the same database, with a graph cache of its own."""
    other: FastAPI = create_app(settings)
    with TestClient(other, raise_server_exceptions=False) as test_client:
        yield test_client


def _cache(client: TestClient) -> GraphCache:
    cache: GraphCache = client.app.state.graph_cache  # type: ignore[attr-defined]
    return cache


def _trace(client: TestClient, headers: dict[str, str], element_type: str, element_id: int) -> dict:
    response = client.post("/api/v1/network/trace", headers=headers,
                           json={"direction": "downstream", "element": {"type": element_type, "id": element_id}})
    assert response.status_code == 200, response.text
    return response.json()


def _set_switch(client: TestClient, headers: dict[str, str], switch_id: int, *, is_open: bool) -> None:
    etag = client.get(f"/api/v1/network/switches/{switch_id}", headers=headers).headers["ETag"]
    response = client.patch(f"/api/v1/network/switches/{switch_id}", json={"properties": {"is_open": is_open}},
                            headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.text


def _feeding(session_factory: sessionmaker[Session], element: ElementType) -> int:
    """An element of the demo grid whose loss cuts customers off, the one cutting off fewest."""
    return fewest_cut_off(customers_cut_off(session_factory, element))


@pytest.fixture
def feeding_switch(demo_grid: None, session_factory: sessionmaker[Session]) -> int:
    """A closed switch that feeds customers: opening it cuts them off."""
    return _feeding(session_factory, ElementType.switch)


def test_opening_a_switch_patches_the_cached_graph_and_the_next_trace_follows(
    client: TestClient, auth: Callable[[Role], dict[str, str]], feeding_switch: int,
    session_factory: sessionmaker[Session],
) -> None:
    headers = auth(Role.dispatcher)
    closed = _trace(client, headers, "switch", feeding_switch)
    cache = _cache(client)
    loads, patches = cache.full_loads, cache.patches

    _set_switch(client, headers, feeding_switch, is_open=True)
    try:
        opened = _trace(client, headers, "switch", feeding_switch)

        assert closed["element_open"] is False and closed["customer_count"] > 0
        assert opened["element_open"] is True and opened["customer_count"] == 0
        assert (cache.full_loads, cache.patches) == (loads, patches + 1)
        with session_factory() as db:
            assert graph_shape(cache.get(db)) == graph_shape(load_graph(db))
    finally:
        _set_switch(client, headers, feeding_switch, is_open=False)

    reclosed = _trace(client, headers, "switch", feeding_switch)
    assert reclosed == closed
    assert (cache.full_loads, cache.patches) == (loads, patches + 2)


def test_a_toggle_in_one_process_reaches_the_trace_in_another_by_a_patch(
    client: TestClient, second_app: TestClient, auth: Callable[[Role], dict[str, str]], feeding_switch: int,
) -> None:
    headers = auth(Role.dispatcher)
    before = _trace(second_app, headers, "switch", feeding_switch)  # the other process has its graph
    other = _cache(second_app)
    loads, patches = other.full_loads, other.patches

    _set_switch(client, headers, feeding_switch, is_open=True)
    try:
        after = _trace(second_app, headers, "switch", feeding_switch)
    finally:
        _set_switch(client, headers, feeding_switch, is_open=False)
    back = _trace(second_app, headers, "switch", feeding_switch)

    assert before["customer_count"] > 0 and after["element_open"] is True and after["customer_count"] == 0
    assert back == before
    assert other.full_loads == loads and other.patches == patches + 2


def test_deleting_a_line_drops_just_its_edge_from_every_cached_graph(
    client: TestClient, second_app: TestClient, auth: Callable[[Role], dict[str, str]],
    session_factory: sessionmaker[Session],
) -> None:
    headers = auth(Role.admin)
    line_id = _feeding(session_factory, ElementType.line)
    traced = _trace(second_app, headers, "line", line_id)
    other = _cache(second_app)
    loads, patches = other.full_loads, other.patches
    etag = client.get(f"/api/v1/network/lines/{line_id}", headers=headers).headers["ETag"]

    deleted = client.delete(f"/api/v1/network/lines/{line_id}", headers={**headers, "If-Match": etag})
    gone = second_app.post("/api/v1/network/trace", headers=headers,
                           json={"direction": "downstream", "element": {"type": "line", "id": line_id}})

    assert traced["customer_count"] > 0
    assert deleted.status_code == 204, deleted.text
    assert gone.status_code == 404
    with session_factory() as db:
        graph = other.get(db)
        assert graph.ends(("line", line_id)) is None
        assert graph_shape(graph) == graph_shape(load_graph(db))
    assert other.full_loads == loads and other.patches == patches + 1


def test_a_change_that_was_not_logged_makes_the_cache_reload(
    client: TestClient, auth: Callable[[Role], dict[str, str]], feeding_switch: int, owner_engine: Engine,
) -> None:
    headers = auth(Role.dispatcher)
    before = _trace(client, headers, "switch", feeding_switch)
    cache = _cache(client)
    loads = cache.full_loads
    with owner_engine.begin() as conn:  # as a repair script or an import would: no change log row
        conn.execute(text("UPDATE switches SET is_open = true WHERE id = :id"), {"id": feeding_switch})
        conn.execute(text("UPDATE topology_state SET revision = revision + 1"))
    try:
        after = _trace(client, headers, "switch", feeding_switch)
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("UPDATE switches SET is_open = false WHERE id = :id"), {"id": feeding_switch})
            conn.execute(text("UPDATE topology_state SET revision = revision + 1"))

    assert before["customer_count"] > 0 and after["element_open"] is True
    assert cache.full_loads == loads + 1
