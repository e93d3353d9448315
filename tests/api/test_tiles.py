"""Vector tiles at /tiles: what a map shows, and that a cached tile changes exactly when the data
under it does (a line edit, a switch toggle, a zone rebuild), with ETag / 304, and that a layer a
role may not read is refused before any cache."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from core.permissions import Role
from core.settings import Settings
from gis.customers.permissions import CUSTOMERS_READ_CONTACT
from gis.layers.tiles.decode import decode
from gis.zones.service import rebuild_all_zones
from tests.factories import BASE_LAT, BASE_LON, created, linestring, point, url

Auth = Callable[[Role], dict[str, str]]
MVT = "application/vnd.mapbox-vector-tile"
FAR_LON, FAR_LAT = 118.7969, 32.0603  # Nanjing, some 150 km east: other tiles at every zoom used here


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ tile holding a point (the slippy-map formula, independent of the service's grid)."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def tile_url(layer: str, tile: tuple[int, int, int]) -> str:
    return f"/tiles/{layer}/{tile[0]}/{tile[1]}/{tile[2]}.mvt"


def features(response: Any, layer: str) -> list[Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    found = decode(response.content).get(layer)
    return found.features if found else []


@pytest.fixture
def editor(auth: Auth) -> dict[str, str]:
    return auth(Role.dispatcher)


def short_line(lon: float, lat: float) -> dict[str, Any]:
    return linestring((lon, lat), (lon + 0.001, lat + 0.0005))


def test_a_lines_tile_holds_each_line_with_its_id_and_what_the_map_styles_it_by(
        client: TestClient, editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0,
                   construction="cable", feeder="F7")

    drawn = features(client.get(tile_url("lines", tile_of(BASE_LON, BASE_LAT, 14)), headers=editor), "lines")

    assert [(f.id, f.geometry_type) for f in drawn] == [(line["id"], "LineString")]
    assert drawn[0].properties == {"id": line["id"], "nominal_kv": 10.0, "construction": "cable",
                                   "name": line["properties"]["name"], "feeder": "F7"}


def test_low_voltage_lines_appear_only_from_zoom_13_and_every_other_line_at_every_zoom(
        client: TestClient, editor: dict[str, str]) -> None:
    mv = created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0)
    lv = created(client, editor, "lines", geometry=short_line(BASE_LON + 0.002, BASE_LAT), nominal_kv=0.4)

    seen = {z: {f.id for f in features(client.get(tile_url("lines", tile_of(BASE_LON, BASE_LAT, z)),
                                                  headers=editor), "lines")} for z in (8, 10, 12, 13, 16)}

    assert seen == {8: {mv["id"]}, 10: {mv["id"]}, 12: {mv["id"]}, 13: {mv["id"], lv["id"]},
                    16: {mv["id"], lv["id"]}}


def test_customer_tiles_carry_no_personal_data(client: TestClient, editor: dict[str, str]) -> None:
    customer = created(client, editor, "customers", geometry=point(BASE_LON, BASE_LAT), name="Zhang Wei",
                       contact_phone="+86 138 0013 8000", address="1 Changjiang Rd")

    drawn = features(client.get(tile_url("customers", tile_of(BASE_LON, BASE_LAT, 16)), headers=editor), "customers")

    assert [f.id for f in drawn] == [customer["id"]]
    # transformer_id is null here, and MVT leaves a null property out.
    assert set(drawn[0].properties) == {"id", "category", "key_account"}
    assert not {"Zhang Wei", "+86 138 0013 8000", "1 Changjiang Rd", customer["properties"]["account_number"]} \
        & {str(v) for v in drawn[0].properties.values()}


def test_a_line_edit_changes_the_tile_over_it_and_no_tile_elsewhere(
        client: TestClient, editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0)
    created(client, editor, "lines", geometry=short_line(FAR_LON, FAR_LAT), nominal_kv=10.0)
    here, there = tile_of(BASE_LON, BASE_LAT, 14), tile_of(FAR_LON, FAR_LAT, 14)
    before_here = client.get(tile_url("lines", here), headers=editor)
    before_there = client.get(tile_url("lines", there), headers=editor)

    edited = client.patch(f"{url('lines')}/{line['id']}", json={"properties": {"nominal_kv": 35.0}},
                          headers={**editor, "If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    after_here = client.get(tile_url("lines", here), headers=editor)
    after_there = client.get(tile_url("lines", there), headers=editor)

    assert after_here.headers["etag"] != before_here.headers["etag"]
    assert [f.properties["nominal_kv"] for f in features(after_here, "lines")] == [35.0]
    assert after_there.headers["etag"] == before_there.headers["etag"]
    assert after_there.content == before_there.content


def test_moving_a_line_changes_the_tiles_it_left_and_reached(client: TestClient, editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0)
    old, new = tile_of(BASE_LON, BASE_LAT, 14), tile_of(FAR_LON, FAR_LAT, 14)
    before = {t: client.get(tile_url("lines", t), headers=editor).headers["etag"] for t in (old, new)}

    moved = client.patch(f"{url('lines')}/{line['id']}", json={"geometry": short_line(FAR_LON, FAR_LAT)},
                         headers={**editor, "If-Match": '"1"'})
    assert moved.status_code == 200, moved.text

    assert features(client.get(tile_url("lines", old), headers=editor), "lines") == []
    assert [f.id for f in features(client.get(tile_url("lines", new), headers=editor), "lines")] == [line["id"]]
    assert all(client.get(tile_url("lines", t), headers=editor).headers["etag"] != before[t] for t in (old, new))


def tile_west_edge(z: int, x: int) -> float:
    return x / 2 ** z * 360.0 - 180.0


def test_a_line_in_a_tiles_buffer_is_drawn_there_and_its_edit_changes_that_tile_too(
        client: TestClient, editor: dict[str, str]) -> None:
    """A line just west of a tile's edge reaches into the tile's buffer (256 of 4096 units): the
    tile draws it clipped, so its change must reach that tile's ETag as well as its own tile's."""
    z, x, y = tile_of(BASE_LON, BASE_LAT, 14)
    edge = tile_west_edge(z, x)
    width = 360.0 / 2 ** z
    line = created(client, editor, "lines", nominal_kv=10.0,
                   geometry=linestring((edge - width * 0.03, BASE_LAT), (edge - width * 0.01, BASE_LAT)))
    beside, home = (z, x, y), (z, x - 1, y)
    before = {t: client.get(tile_url("lines", t), headers=editor) for t in (beside, home)}

    client.patch(f"{url('lines')}/{line['id']}", json={"properties": {"nominal_kv": 20.0}},
                 headers={**editor, "If-Match": '"1"'})
    after = {t: client.get(tile_url("lines", t), headers=editor) for t in (beside, home)}

    assert [f.id for f in features(before[beside], "lines")] == [line["id"]]
    assert all(after[t].headers["etag"] != before[t].headers["etag"] for t in (beside, home))
    assert [f.properties["nominal_kv"] for f in features(after[beside], "lines")] == [20.0]


def test_a_switch_toggle_changes_its_tile(client: TestClient, editor: dict[str, str]) -> None:
    switch = created(client, editor, "switches", geometry=point(BASE_LON, BASE_LAT), is_open=False)
    here = tile_of(BASE_LON, BASE_LAT, 15)
    closed = client.get(tile_url("switches", here), headers=editor)

    toggled = client.patch(f"{url('switches')}/{switch['id']}", json={"properties": {"is_open": True}},
                           headers={**editor, "If-Match": '"1"'})
    assert toggled.status_code == 200, toggled.text
    opened = client.get(tile_url("switches", here), headers=editor)

    assert opened.headers["etag"] != closed.headers["etag"]
    assert [f.properties["is_open"] for f in features(closed, "switches")] == [False]
    assert [f.properties["is_open"] for f in features(opened, "switches")] == [True]


def test_a_zone_rebuild_changes_the_zone_tiles(client: TestClient, editor: dict[str, str],
                                               session_factory: sessionmaker[Session], owner_engine: Engine) -> None:
    line = created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0)
    here = tile_of(BASE_LON, BASE_LAT, 15)
    before = client.get(tile_url("zones", here), headers=editor)
    assert {f.properties["line_id"] for f in features(before, "zones")} == {line["id"]}

    with session_factory.begin() as db:
        rebuild_all_zones(db=db)
    with owner_engine.connect() as conn:
        zone_ids = set(conn.execute(text("SELECT id FROM line_zones WHERE line_id = :id"), {"id": line["id"]}).scalars())
    after = client.get(tile_url("zones", here), headers=editor)

    assert after.headers["etag"] != before.headers["etag"]
    assert {f.id for f in features(after, "zones")} == zone_ids
    assert not zone_ids & {f.id for f in features(before, "zones")}


def test_a_write_outside_the_api_changes_the_tile_too(client: TestClient, editor: dict[str, str],
                                                      owner_engine: Engine) -> None:
    """The change log is kept by the database, so an import, a job or an operator's SQL counts."""
    switch = created(client, editor, "switches", geometry=point(BASE_LON, BASE_LAT), is_open=False)
    here = tile_of(BASE_LON, BASE_LAT, 15)
    before = client.get(tile_url("switches", here), headers=editor)

    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE switches SET is_open = true WHERE id = :id"), {"id": switch["id"]})
    after = client.get(tile_url("switches", here), headers=editor)

    assert after.headers["etag"] != before.headers["etag"]
    assert [f.properties["is_open"] for f in features(after, "switches")] == [True]


def test_a_matching_if_none_match_gets_304_and_an_old_one_the_new_tile(
        client: TestClient, editor: dict[str, str]) -> None:
    line = created(client, editor, "lines", geometry=short_line(BASE_LON, BASE_LAT), nominal_kv=10.0)
    here = tile_url("lines", tile_of(BASE_LON, BASE_LAT, 14))
    first = client.get(here, headers=editor)

    again = client.get(here, headers={**editor, "If-None-Match": first.headers["etag"]})
    weak = client.get(here, headers={**editor, "If-None-Match": "W/" + first.headers["etag"]})
    client.patch(f"{url('lines')}/{line['id']}", json={"properties": {"name": "renamed"}},
                 headers={**editor, "If-Match": '"1"'})
    changed = client.get(here, headers={**editor, "If-None-Match": first.headers["etag"]})

    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", first.headers["etag"])
    assert weak.status_code == 304
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    assert [f.properties["name"] for f in features(changed, "lines")] == ["renamed"]


def test_a_role_that_may_not_read_customers_is_refused_even_when_the_tile_is_cached(
        settings: Settings, auth: Auth, editor: dict[str, str]) -> None:
    """Here customers are readable by dispatchers and inspectors only (their contact permission)."""
    app = create_app(settings)
    customers = app.state.tile_layers["customers"]
    narrowed = replace(customers, source=replace(customers.source, read_permission=CUSTOMERS_READ_CONTACT))
    app.state.tile_layers = {**app.state.tile_layers, "customers": narrowed}
    with TestClient(app) as client:
        created(client, editor, "customers", geometry=point(BASE_LON, BASE_LAT))
        here = tile_url("customers", tile_of(BASE_LON, BASE_LAT, 16))
        cached = client.get(here, headers=editor)
        assert len(features(cached, "customers")) == 1

        refused = client.get(here, headers=auth(Role.auditor))
        refused_304 = client.get(here, headers={**auth(Role.auditor), "If-None-Match": cached.headers["etag"]})
        style = client.get("/tiles/style.json", headers=auth(Role.auditor)).json()

    assert refused.status_code == refused_304.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "customers" not in style["sources"]
    assert not [layer for layer in style["layers"] if layer.get("source") == "customers"]


def test_tiles_need_a_signed_in_user(client: TestClient) -> None:
    assert client.get(tile_url("lines", (14, 13530, 6622))).status_code == 401
    assert client.get("/tiles/lines.json").status_code == 401
    assert client.get("/tiles/style.json").status_code == 401


def test_tiles_off_the_grid_or_of_no_layer_are_404(client: TestClient, editor: dict[str, str]) -> None:
    assert client.get("/tiles/lines/3/8/0.mvt", headers=editor).status_code == 404
    assert client.get("/tiles/lines/40/0/0.mvt", headers=editor).status_code == 404
    assert client.get("/tiles/nonsense/3/0/0.mvt", headers=editor).status_code == 404


def test_below_a_layers_first_zoom_its_tiles_are_empty(client: TestClient, editor: dict[str, str]) -> None:
    created(client, editor, "customers", geometry=point(BASE_LON, BASE_LAT))

    response = client.get(tile_url("customers", tile_of(BASE_LON, BASE_LAT, 12)), headers=editor)

    assert response.status_code == 200 and response.content == b""


def test_tilejson_and_style_point_at_absolute_tile_urls(client: TestClient, editor: dict[str, str]) -> None:
    tilejson = client.get("/tiles/lines.json", headers=editor).json()
    style = client.get("/tiles/style.json", headers=editor).json()

    assert tilejson["tiles"] == ["http://testserver/tiles/lines/{z}/{x}/{y}.mvt"]
    assert tilejson["vector_layers"][0]["id"] == "lines"
    assert tilejson["vector_layers"][0]["fields"]["nominal_kv"] == "Number"
    assert style["version"] == 8
    assert set(style["sources"]) == {"lines", "transformers", "switches", "substations", "poles", "zones",
                                     "manual", "built_up_areas", "customers", "cases"}
    assert style["sources"]["switches"]["tiles"] == ["http://testserver/tiles/switches/{z}/{x}/{y}.mvt"]
    assert {layer["id"] for layer in style["layers"]} >= {"lines-overhead", "lines-cable", "switches", "zones-fill",
                                                          "customers", "cases"}
