"""A dispatcher's day on the map console, in Chromium: sign in, see the network drawn, click a
switch to read what it feeds, open it and see the trace change, screen a drawn site, move a case
on, open its decision PDF and watch a crew's position arrive live. Each check reads what the
page shows or what the map itself has drawn, and compares it with the API and the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gis.network.topology import ElementType
from tests.api.console.conftest import MAP_SETTLED, Console
from tests.cases.conftest import Desk, connection_body
from tests.conftest import Person
from tests.gis.network.demo_grid import customers_cut_off, fewest_cut_off

SHARED_DATA = True
SAME_SPOT_M = 0.5  # switches this close are under one click
TRIANGLE_DEG = 0.0001  # about 10 m: the drawn site straddles the line


@pytest.fixture
def desk(client: TestClient, staff: dict[str, Person], demo_grid: None) -> Desk:
    """The case desk of tests/cases, setting up cases through the API as the approval officers do."""
    return Desk(client, staff)


def ids(engine: Engine, table: str) -> set[int]:
    with engine.connect() as conn:
        return {int(i) for i in conn.execute(text(f"SELECT id FROM {table} WHERE deleted_at IS NULL")).scalars()}


def lonlat(engine: Engine, sql: str, **params: Any) -> tuple[float, float]:
    with engine.connect() as conn:
        row = conn.execute(text(sql), params).one()
    return float(row[0]), float(row[1])


def a_line_point(engine: Engine) -> tuple[int, tuple[float, float]]:
    """An overhead line of the demo grid and the middle of its first segment (a point on it)."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT id, ST_X(ST_LineInterpolatePoint(ST_MakeLine(ST_PointN(geom, 1), ST_PointN(geom, 2)), 0.5)), "
            "ST_Y(ST_LineInterpolatePoint(ST_MakeLine(ST_PointN(geom, 1), ST_PointN(geom, 2)), 0.5)) FROM lines "
            "WHERE deleted_at IS NULL AND construction = 'overhead' AND ST_Length(geom::geography) > 100 "
            "ORDER BY id LIMIT 1")).one()
    return int(row[0]), (float(row[1]), float(row[2]))


def test_a_wrong_password_is_refused_on_the_sign_in_form(console: Console, staff: dict[str, Person],
                                                          demo_grid: None) -> None:
    console.open()
    console.element("username").send_keys("test-dispatcher")
    console.element("password").send_keys("not-the-password")
    console.element("sign-in-button").click()

    console.wait(lambda d: console.text_of("sign-in-error"), "the form says why")
    assert console.text_of("sign-in-error") == "Wrong username or password."
    assert not console.element("console").is_displayed()


def test_a_dispatcher_signs_in_and_the_map_draws_the_network(
        console: Console, staff: dict[str, Person], demo_grid: None, owner_engine: Engine) -> None:
    console.sign_in("test-dispatcher", "dispatcher-password")

    assert console.text_of("who") == "test-dispatcher · Dispatcher"
    # The view opens on the network: every substation is drawn, and what is drawn is the database's.
    assert console.wait_rendered("substations") == ids(owner_engine, "substations")
    for layer in ("lines", "transformers", "switches"):
        drawn = console.wait_rendered(layer)
        assert drawn <= ids(owner_engine, layer), layer
    assert console.js("return window.gw.map.getZoom();") < 14
    assert console.rendered("customers") == set(), "customers are drawn only at high zoom"

    customer = min(ids(owner_engine, "customers"))
    console.jump(*lonlat(owner_engine, "SELECT ST_X(geom), ST_Y(geom) FROM customers WHERE id = :id", id=customer), 18)
    assert customer in console.wait_rendered("customers")


def test_clicking_a_switch_shows_what_it_feeds_and_opening_it_changes_the_trace(
        console: Console, staff: dict[str, Person], demo_grid: None, owner_engine: Engine,
        session_factory: sessionmaker[Session], client: TestClient) -> None:
    switch_id = fewest_cut_off(customers_cut_off(session_factory, ElementType.switch))
    headers = staff["dispatcher"].headers
    expected = client.post("/api/v1/network/trace", headers=headers,
                           json={"direction": "downstream", "element": {"type": "switch", "id": switch_id}}).json()
    external_id = client.get(f"/api/v1/network/switches/{switch_id}", headers=headers).json()["properties"]["external_id"]
    at = lonlat(owner_engine, "SELECT ST_X(geom), ST_Y(geom) FROM switches WHERE id = :id", id=switch_id)
    with owner_engine.connect() as conn:  # SimBench puts a bus's switches on one spot
        same_spot = set(conn.execute(text(
            "SELECT o.id FROM switches s JOIN switches o ON ST_DWithin(o.geom::geography, s.geom::geography, :m) "
            "WHERE s.id = :id"), {"m": SAME_SPOT_M, "id": switch_id}).scalars())

    console.sign_in("test-dispatcher", "dispatcher-password")
    console.jump(*at, 19)
    console.click_map(*at)

    title = console.element("asset-title")
    console.wait(lambda d: title.get_attribute("data-layer") == "switches", "a click on the spot opens a switch")
    opened = int(title.get_attribute("data-id"))
    here = {int(b.get_attribute("data-id")): b for b in console.element("asset-here-list").find_elements(By.TAG_NAME, "button")
            if b.get_attribute("data-layer") == "switches"}
    assert {opened, *here} == same_spot, "the panel offers every other switch on the spot"
    if opened != switch_id:
        here[switch_id].click()
        console.wait(lambda d: title.get_attribute("data-id") == str(switch_id), "the switch picked opens")
    summary = console.element("trace-summary")
    console.wait(lambda d: summary.get_attribute("data-element") == f"switches:{switch_id}",
                 "the trace shown is the picked switch's, not the one first opened on the spot")
    assert summary.get_attribute("data-customers") == str(expected["customer_count"]), \
        "the trace shows the customers the switch feeds"
    assert external_id in console.text_of("asset-title")
    listed = [int(li.get_attribute("data-id")) for li in console.element("trace-transformers").find_elements(By.TAG_NAME, "li")]
    assert listed == [t["id"] for t in expected["transformers"]] and listed
    # The map's highlight is set after the panel's list is drawn: wait for it rather than race it.
    console.wait(lambda d: sorted(console.js("const f = window.gw.map.getFilter('gw-trace-transformers');"
                                             "return f ? f[2][1] : [];")) == sorted(listed),
                 "the transformers the switch feeds are highlighted on the map")
    assert len(console.element("trace-customers").find_elements(By.TAG_NAME, "li")) == expected["customer_count"] > 0

    toggle = console.element("switch-toggle")
    assert toggle.text == "Open switch"
    toggle.click()
    try:
        console.wait(lambda d: summary.get_attribute("data-customers") == "0", "an open switch feeds nobody")
        assert client.get(f"/api/v1/network/switches/{switch_id}", headers=headers).json()["properties"]["is_open"]
        console.wait(lambda d: console.js("return window.gw.map.getFilter('gw-trace-transformers')[2][1];") == [],
                     "nothing is highlighted once the switch is open")
        console.wait(lambda d: toggle.text == "Close switch")
        console.wait(lambda d: (console.drawn("switches", switch_id) or {}).get("is_open") is True,
                     "the map draws the switch open (its tile was fetched again)")
    finally:
        toggle.click()
        console.wait(lambda d: summary.get_attribute("data-customers") == str(expected["customer_count"]),
                     "closing it again restores the trace")
    assert client.get(f"/api/v1/network/switches/{switch_id}", headers=headers).json()["properties"]["is_open"] is False
    console.wait(lambda d: (console.drawn("switches", switch_id) or {}).get("is_open") is False, "and closed again")


def test_an_inspector_reads_a_switch_and_its_trace_but_is_offered_no_toggle(
        console: Console, staff: dict[str, Person], demo_grid: None, owner_engine: Engine) -> None:
    switch_id = min(ids(owner_engine, "switches"))
    console.sign_in("test-inspector", "inspector-password")
    console.js("window.gw.openAsset(window.gw.map, 'switches', arguments[0]);", switch_id)

    title = console.element("asset-title")
    console.wait(lambda d: title.get_attribute("data-id") == str(switch_id), "the switch opens")
    console.wait(lambda d: console.element("trace-summary").get_attribute("data-element") == f"switches:{switch_id}",
                 "with its trace")
    assert console.element("trace-summary").get_attribute("data-customers") is not None
    assert console.element("asset-properties").text
    assert not console.element("switch-toggle").is_displayed()


def draw_and_screen(console: Console, client: TestClient, headers: dict[str, str], *, tool: str,
                    around: tuple[float, float], activity: str, height_m: str) -> tuple[Any, dict[str, Any]]:
    """Sign in as the dispatcher, click the three corners of a small triangle around a point of a
    line with the drawing `tool`, screen `activity` with its height, and return the verdict element
    and the screening as stored (read through the API)."""
    lon, lat = around
    corners = [(lon - TRIANGLE_DEG, lat - TRIANGLE_DEG), (lon + TRIANGLE_DEG, lat - TRIANGLE_DEG),
               (lon, lat + TRIANGLE_DEG)]
    console.sign_in("test-dispatcher", "dispatcher-password")
    console.jump(lon, lat, 17)
    console.tab("screening")
    console.element(tool).click()
    for corner in corners:
        console.click_map(*corner)
    console.element("draw-finish").click()
    Select(console.element("activity")).select_by_value(activity)
    console.driver.find_element(By.CSS_SELECTOR, '#activity-parameters input[name="height_m"]').send_keys(height_m)
    console.element("screen").click()
    verdict = console.element("screening-verdict")
    screening_id = console.wait(lambda d: verdict.get_attribute("data-id"), "the screening answers")
    return verdict, client.get(f"/api/v1/screenings/{screening_id}", headers=headers).json()


def test_a_drawn_polygon_is_screened_with_each_findings_distances_and_nearest_points(
        console: Console, staff: dict[str, Person], demo_grid: None, owner_engine: Engine, client: TestClient) -> None:
    line_id, spot = a_line_point(owner_engine)

    verdict, stored = draw_and_screen(console, client, staff["dispatcher"].headers, tool="draw-polygon",
                                      around=spot, activity="building", height_m="12")

    assert stored["activity"] == "building" and stored["parameters"] == {"height_m": 12.0}
    assert stored["geometry"]["type"] == "Polygon"
    assert verdict.get_attribute("data-verdict") == stored["verdict"] == "conflict"
    assert any(f["asset"]["layer"] == "lines" and f["asset"]["id"] == line_id for f in stored["findings"])
    rows = console.driver.find_elements(By.CSS_SELECTOR, "#screening-findings tbody tr")
    shown = [(r.get_attribute("data-layer"), int(r.get_attribute("data-id")),
              float(r.find_element(By.CLASS_NAME, "required").text), float(r.find_element(By.CLASS_NAME, "measured").text))
             for r in rows]
    assert shown == [(f["asset"]["layer"], f["asset"]["id"], round(f["required_m"], 2), round(f["measured_m"], 2))
                     for f in stored["findings"]]
    drawn = console.driver.execute_async_script(
        "const done = arguments[0]; window.gw.map.getSource('gw-nearest').getData().then((d) => done(d.features));")
    assert [f["geometry"] for f in drawn] == [f["nearest_points"] for f in stored["findings"] if f["nearest_points"]]


def test_a_drawn_route_of_a_tall_vehicle_is_screened_and_the_governing_distance_is_shown(
        console: Console, staff: dict[str, Person], demo_grid: None, owner_engine: Engine, client: TestClient) -> None:
    line_id, spot = a_line_point(owner_engine)

    # Two sides of a triangle around a point of the line: a line through it crosses at least one of them.
    verdict, stored = draw_and_screen(console, client, staff["dispatcher"].headers, tool="draw-line",
                                      around=spot, activity="vehicle_passage", height_m="30")

    assert stored["activity"] == "vehicle_passage" and stored["geometry"]["type"] == "LineString"
    assert verdict.get_attribute("data-verdict") == stored["verdict"] == "conflict"
    rows = console.driver.find_elements(By.CSS_SELECTOR, "#screening-findings tbody tr")
    governing = {(int(r.get_attribute("data-id")), r.get_attribute("data-governing")) for r in rows
                 if r.get_attribute("data-governing")}
    assert (line_id, "vertical") in governing
    assert governing == {(f["asset"]["id"], f["rule"]["governing"]) for f in stored["findings"] if "governing" in f["rule"]}


def test_the_case_queue_moves_a_case_one_step(console: Console, staff: dict[str, Person], desk: Desk,
                                              owner_engine: Engine) -> None:
    _, (lon, lat) = a_line_point(owner_engine)
    case = desk.register(connection_body((lon, lat)))
    assert case["state"] == "screened"

    console.sign_in("test-dispatcher", "dispatcher-password")
    console.jump(lon, lat, 16)
    assert case["id"] in console.wait_rendered("cases"), "the open case is on the map"
    console.tab("cases")
    entry = console.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#case-list li[data-id="{case["id"]}"]'),
                         "the queue lists the case")[0]
    assert "Screened" in entry.text and case["number"] in entry.text
    Select(console.element("case-state")).select_by_value("survey_assigned")
    console.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, f'#case-list li[data-id="{case["id"]}"]'),
                 "filtering by state hides it")
    Select(console.element("case-state")).select_by_value("screened")
    console.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#case-list li[data-id="{case["id"]}"]'))[0].click()

    detail = console.element("case-detail")
    console.wait(lambda d: detail.get_attribute("data-id") == str(case["id"]), "the case opens")
    console.wait(lambda d: console.element("case-screening").text, "with its screening")
    offered = [b.get_attribute("data-action") for b in console.element("case-actions").find_elements(By.TAG_NAME, "button")]
    assert offered == ["assign_survey"]
    console.driver.find_element(By.CSS_SELECTOR, '#case-actions button[data-action="assign_survey"]').click()
    console.driver.find_element(By.CSS_SELECTOR, '.action-form input[name="assignee_id"]').send_keys(str(staff["inspector"].id))
    console.driver.find_element(By.CSS_SELECTOR, '.action-form button[type="submit"]').click()

    console.wait(lambda d: detail.get_attribute("data-state") == "survey_assigned", "the case moved on")
    after = desk.get(case)
    assert after["state"] == "survey_assigned" and after["assignee"]["id"] == staff["inspector"].id
    assert (after["history"][-1]["action"], after["history"][-1]["actor"]) == ("assign_survey", "test-dispatcher")
    assert "Assign survey" in console.text_of("case-history")


def test_an_approval_officer_opens_the_decision_pdf(console: Console, staff: dict[str, Person], desk: Desk,
                                                   owner_engine: Engine) -> None:
    _, (lon, lat) = a_line_point(owner_engine)
    case = desk.surveyed(desk.register(connection_body((lon, lat))), hazard=False)
    case = desk.act(case, "approve_with_clauses", by="approver", measures=["不得在保护区内堆放物品"])
    (document,) = case["documents"]

    console.sign_in("test-approver", "approver-password")
    console.js("window.gw.openCase(arguments[0]);", case["id"])
    link = console.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#case-documents a[data-id="{document["id"]}"]'),
                        "the case lists its decision")[0]
    assert document["serial_number"] in link.text
    main = console.driver.current_window_handle
    link.click()
    console.wait(lambda d: len(d.window_handles) == 2, "the PDF opens in a new tab")
    console.driver.switch_to.window(next(h for h in console.driver.window_handles if h != main))
    try:
        console.wait(lambda d: d.current_url.startswith("blob:"), "the tab shows the document the page fetched")
        assert console.js("return document.contentType;") == "application/pdf"
    finally:
        console.driver.close()
        console.driver.switch_to.window(main)


def test_a_crews_position_arrives_on_the_dispatchers_map_live(
        console: Console, staff: dict[str, Person], demo_grid: None, client: TestClient, owner_engine: Engine) -> None:
    _, (lon, lat) = a_line_point(owner_engine)
    console.sign_in("test-dispatcher", "dispatcher-password")
    console.tab("field")
    console.wait(lambda d: console.element("live-state").get_attribute("data-connected") == "true", "the feed is open")

    inspector = staff["inspector"]
    sent = client.post("/api/v1/positions", headers=inspector.headers,
                       json={"lon": lon, "lat": lat, "accuracy_m": 5.0, "device_time": datetime.now(UTC).isoformat()})
    assert sent.status_code == 201, sent.text

    console.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#field-crews li[data-id="{inspector.id}"]'),
                 "the crew is listed as the event arrives")
    crews = console.driver.execute_async_script(
        "const done = arguments[0]; window.gw.map.getSource('gw-live').getData()"
        ".then((d) => done(d.features.filter((f) => f.properties.kind === 'crew')));")
    assert [(c["properties"]["id"], c["geometry"]["coordinates"]) for c in crews] == [(inspector.id, [lon, lat])]


def test_the_console_speaks_chinese_from_its_text_files(console: Console, staff: dict[str, Person],
                                                        demo_grid: None) -> None:
    console.sign_in("test-approver", "approver-password")
    Select(console.element("language")).select_by_value("zh")

    console.wait(lambda d: console.js("return document.documentElement.lang;") == "zh" and console.js(MAP_SETTLED),
                 "the page comes back in Chinese")
    assert console.text_of("who") == "test-approver · 审批员"
    assert [tab.text for tab in console.driver.find_elements(By.CSS_SELECTOR, "aside nav button")] == [
        "设备", "安全距离校核", "工单", "现场作业"]
