"""The tile change log: what the triggers record for each kind of write, and the daily prune
(every tile's ETag moves once, the tiles themselves stay the same)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from core.permissions import Role
from gis.layers.tiles.changes import prune_change_log
from tests.api.test_tiles import short_line, tile_of, tile_url
from tests.factories import BASE_LAT, BASE_LON, created

Auth = Callable[[Role], dict[str, str]]


def last_change(engine: Engine) -> int:
    """The newest box so far (the test reset's TRUNCATE logs a whole-world box per table)."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(id), 0) FROM tile_changes")).scalar_one())


def boxes(engine: Engine, source: str, after: int = 0) -> list[tuple[float, float, float, float]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT ST_XMin(bbox), ST_YMin(bbox), ST_XMax(bbox), ST_YMax(bbox) FROM tile_changes "
                                 "WHERE source = :source AND id > :after ORDER BY id"),
                            {"source": source, "after": after}).all()
    return [tuple(round(v, 6) for v in row) for row in rows]  # type: ignore[misc]


def test_an_update_records_the_old_and_new_box_and_a_no_op_update_nothing(owner_engine: Engine) -> None:
    start = last_change(owner_engine)
    with owner_engine.begin() as conn:
        line_id = conn.execute(text(
            "INSERT INTO lines (external_id, name, construction, nominal_kv, conductor_type, conductor_spread_is_default, "
            "geom) VALUES ('l-1', '', 'overhead', 10, '', false, "
            "ST_GeomFromText('LINESTRING(117 31, 117.01 31.01)', 4326)) RETURNING id")).scalar_one()
        conn.execute(text("UPDATE lines SET geom = ST_GeomFromText('LINESTRING(118 32, 118.02 32.01)', 4326) "
                          "WHERE id = :id"), {"id": line_id})
        conn.execute(text("UPDATE lines SET name = name WHERE id = :id"), {"id": line_id})
        conn.execute(text("DELETE FROM lines WHERE id = :id"), {"id": line_id})

    assert boxes(owner_engine, "lines", start) == [
        (117.0, 31.0, 117.01, 31.01),  # the insert
        (117.0, 31.0, 117.01, 31.01), (118.0, 32.0, 118.02, 32.01),  # the move: where it was, where it is
        (118.0, 32.0, 118.02, 32.01),  # the delete; the no-op update recorded nothing
    ]


def test_a_bulk_statement_records_one_extent(owner_engine: Engine) -> None:
    start = last_change(owner_engine)
    with owner_engine.begin() as conn:
        bulk = conn.execute(text("SELECT bulk_rows FROM tile_state")).scalar_one()
        conn.execute(text(
            "INSERT INTO switches (external_id, name, switch_type, normally_open, is_open, geom) "
            "SELECT 's-' || n, '', '', false, false, ST_SetSRID(ST_MakePoint(117 + n * 0.001, 31), 4326) "
            "FROM generate_series(0, :last) AS n"), {"last": bulk})

    assert boxes(owner_engine, "switches", start) == [(117.0, 31.0, round(117 + bulk * 0.001, 6), 31.0)]


def test_the_prune_empties_the_log_and_moves_every_tiles_etag_once(
        client: TestClient, auth: Auth, session_factory: sessionmaker[Session], owner_engine: Engine) -> None:
    editor = auth(Role.dispatcher)
    created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0)
    here = tile_url("lines", tile_of(BASE_LON, BASE_LAT, 14))
    empty = tile_url("lines", tile_of(BASE_LON + 20, BASE_LAT, 14))
    before = {url: client.get(url, headers=editor) for url in (here, empty)}

    with session_factory.begin() as db:
        removed = prune_change_log(db=db)
    after = {url: client.get(url, headers=editor) for url in (here, empty)}
    again = {url: client.get(url, headers=editor) for url in (here, empty)}

    assert removed >= 1 and boxes(owner_engine, "lines") == []
    for url in (here, empty):
        assert after[url].headers["etag"] != before[url].headers["etag"]
        assert after[url].content == before[url].content
        assert again[url].headers["etag"] == after[url].headers["etag"]
