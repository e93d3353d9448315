"""One graph snapshot per machine, shared by every API process: the first process to need a
revision writes it, the others map the same files; logged changes since are a per-process patch,
and only a change that was not logged (an import) makes a new snapshot.

Each `GraphCache` stands for one API process; they share a snapshot directory of the test's own.
Whatever a cache serves is compared with the graph loaded afresh from the database into dicts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gis.network.topology import (
    ElementType,
    GraphCache,
    TopologySettings,
    bump_revision,
    downstream_nodes,
    load_graph,
)
from tests.gis.network.demo_grid import customers_cut_off, fewest_cut_off, graph_shape

SHARED_DATA = True


def _process(directory: Path) -> GraphCache:
    return GraphCache(TopologySettings(snapshot_dir=directory))


def _snapshots(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*/r*") if p.is_dir())


@pytest.fixture
def feeding_switch(demo_grid: None, session_factory: sessionmaker[Session]) -> int:
    return fewest_cut_off(customers_cut_off(session_factory, ElementType.switch))


def _operate(session_factory: sessionmaker[Session], switch_id: int, *, is_open: bool) -> None:
    """As the switch service does: the change and its logged revision in one transaction."""
    with session_factory() as db, db.begin():
        db.execute(text("UPDATE switches SET is_open = :open WHERE id = :id"), {"open": is_open, "id": switch_id})
        bump_revision(db, changed=[("switch", switch_id)])


def test_the_second_process_maps_the_snapshot_the_first_wrote(
    demo_grid: None, session_factory: sessionmaker[Session], tmp_path: Path,
) -> None:
    first, second = _process(tmp_path), _process(tmp_path)
    with session_factory() as db:
        written = first.get(db)
        files = {p: p.stat().st_ino for p in _snapshots(tmp_path)}
        opened = second.get(db)
        reference = load_graph(db)

    assert len(files) == 1
    assert opened.snapshot.path == written.snapshot.path
    assert {p: p.stat().st_ino for p in _snapshots(tmp_path)} == files  # found, not rewritten
    assert graph_shape(opened) == graph_shape(reference)


def test_a_process_started_after_a_switch_toggle_patches_the_existing_snapshot(
    session_factory: sessionmaker[Session], feeding_switch: int, tmp_path: Path,
) -> None:
    with session_factory() as db:
        before = _process(tmp_path).get(db)
        cut_before = downstream_nodes(before, ElementType.switch, feeding_switch)
    _operate(session_factory, feeding_switch, is_open=True)
    try:
        late = _process(tmp_path)
        with session_factory() as db:
            graph = late.get(db)
            reference = load_graph(db)
        cut_open = downstream_nodes(graph, ElementType.switch, feeding_switch)
    finally:
        _operate(session_factory, feeding_switch, is_open=False)

    assert cut_before is not None and cut_before.nodes and not cut_before.element_open
    assert cut_open is not None and cut_open.element_open and not cut_open.nodes
    assert graph.snapshot.path == before.snapshot.path and len(_snapshots(tmp_path)) == 1
    assert (late.full_loads, late.patches) == (1, 0)  # opened the snapshot, patched on the way in
    assert graph_shape(graph) == graph_shape(reference)


def test_a_change_that_was_not_logged_makes_one_new_snapshot_for_every_process(
    session_factory: sessionmaker[Session], feeding_switch: int, owner_engine: Engine, tmp_path: Path,
) -> None:
    first, second = _process(tmp_path), _process(tmp_path)
    with session_factory() as db:
        old = first.get(db)
        second.get(db)
    with owner_engine.begin() as conn:  # as an import would: no change log row
        conn.execute(text("UPDATE switches SET is_open = true WHERE id = :id"), {"id": feeding_switch})
        conn.execute(text("UPDATE topology_state SET revision = revision + 1"))
    try:
        with session_factory() as db:
            new = first.get(db)
            also = second.get(db)
            reference = load_graph(db)
    finally:
        with owner_engine.begin() as conn:
            conn.execute(text("UPDATE switches SET is_open = false WHERE id = :id"), {"id": feeding_switch})
            conn.execute(text("UPDATE topology_state SET revision = revision + 1"))

    assert new.snapshot.path != old.snapshot.path and also.snapshot.path == new.snapshot.path
    assert _snapshots(tmp_path) == [new.snapshot.path]  # the superseded one is gone from disk
    assert feeding_switch in new.open_switches
    assert graph_shape(new) == graph_shape(reference)
    # A process that still had the old snapshot mapped keeps a consistent picture of it.
    assert downstream_nodes(old, ElementType.switch, feeding_switch) is not None
