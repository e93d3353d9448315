"""The map console in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (named explicitly, so Selenium Manager downloads nothing), against the app
served by uvicorn on a loopback port with the test database. One browser per test module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from tests.api.live_server import serve
from tests.conftest import Person, ensure_role_users, sign_in_people
from tests.gis.network.demo_grid import demo_grid

__all__ = ["Console", "demo_grid"]  # demo_grid: the SimBench grid the console is tried on, a fixture

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# WebGL 2 (MapLibre GL JS 5) without a GPU: ANGLE on SwiftShader, Chromium's software renderer.
CHROMIUM_ARGS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader", "--window-size=1400,900", "--lang=en-US")
WAIT_S = 30  # software WebGL on a shared machine: generous, and only reached when something is wrong
# The features of one tile layer drawn on the map now: their ids, as the map itself reports them.
RENDERED_IDS = """
const map = window.gw.map;
return [...new Set(map.queryRenderedFeatures()
  .filter((f) => f.sourceLayer === arguments[0] && f.layer.id.indexOf("gw-") !== 0)
  .map((f) => Number(f.properties.id !== undefined ? f.properties.id : f.id)))];
"""
# One drawn feature's tile properties: what the map shows of it now.
DRAWN_PROPERTIES = """
const found = window.gw.map.queryRenderedFeatures()
  .find((f) => f.sourceLayer === arguments[0] && f.layer.id.indexOf("gw-") !== 0 && Number(f.properties.id) === arguments[1]);
return found ? found.properties : null;
"""
MAP_SETTLED = ("return Boolean(window.gw && window.gw.ready && window.gw.map.loaded() && !window.gw.map.isMoving()"
               " && window.gw.map.areTilesLoaded());")


@dataclass
class Console:
    """The console page in the module's browser, with the steps a dispatcher takes."""

    driver: WebDriver
    url: str

    def wait(self, condition: Callable[[WebDriver], Any], message: str = "") -> Any:
        return WebDriverWait(self.driver, WAIT_S, poll_frequency=0.1).until(condition, message)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def element(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def text_of(self, element_id: str) -> str:
        return str(self.element(element_id).text)

    def open(self) -> None:
        """The page with nobody signed in (a fresh tab session)."""
        self.driver.get(self.url)
        self.js("sessionStorage.clear(); localStorage.setItem('gw.language', 'en');")
        self.driver.get(self.url)
        self.wait(lambda d: self.element("sign-in").is_displayed(), "the sign-in form is shown")

    def sign_in(self, username: str, password: str) -> None:
        self.open()
        self.element("username").send_keys(username)
        self.element("password").send_keys(password)
        self.element("sign-in-button").click()
        self.settled()

    def settled(self) -> None:
        """The map has its style, its sources and its tiles, and stands still."""
        self.wait(lambda d: self.js(MAP_SETTLED), "the map loads")

    def rendered(self, layer: str) -> set[int]:
        return {int(i) for i in self.js(RENDERED_IDS, layer)}

    def drawn(self, layer: str, feature_id: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.js(DRAWN_PROPERTIES, layer, feature_id)
        return found

    def wait_rendered(self, layer: str) -> set[int]:
        return set(self.wait(lambda d: self.rendered(layer), f"the map draws {layer}"))

    def jump(self, lon: float, lat: float, zoom: float) -> None:
        self.js("window.gw.map.jumpTo({center: arguments[0], zoom: arguments[1]});", [lon, lat], zoom)
        self.settled()

    def click_map(self, lon: float, lat: float) -> None:
        """A real mouse click on the map where (lon, lat) is drawn."""
        x, y = self.js("const p = window.gw.map.project(arguments[0]); return [p.x, p.y];", [lon, lat])
        canvas = self.driver.find_element(By.CSS_SELECTOR, "#map canvas")
        size = canvas.size
        ActionChains(self.driver).move_to_element_with_offset(
            canvas, int(x - size["width"] / 2), int(y - size["height"] / 2)).click().perform()

    def tab(self, name: str) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'[data-tab="{name}"]').click()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def console_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as (host, port):
        yield f"http://{host}:{port}/console"


@pytest.fixture(scope="module")
def console(browser: WebDriver, console_url: str) -> Console:
    return Console(browser, console_url)


@pytest.fixture(scope="module")
def staff(settings: Settings, session_factory: sessionmaker[Session]) -> dict[str, Person]:
    """The `test-<role>` users (password `<role>-password`) with API headers, for the whole module."""
    ensure_role_users(session_factory)
    return sign_in_people(settings, session_factory, {})
