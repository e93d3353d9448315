"""What /console serves: the page (with its own Content-Security-Policy) and its scripts, styles,
UI texts and MapLibre's browser build, to anyone (they hold no data), and nothing else from disk."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.console_assets import CONSOLE_DIR


def test_the_page_is_served_with_a_policy_that_keeps_scripts_to_this_origin(client: TestClient) -> None:
    response = client.get("/console")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<div id="map"' in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(("path", "media_type"), [
    ("/console/js/main.js", "text/javascript"),
    ("/console/css/console.css", "text/css"),
    ("/console/i18n/zh.json", "application/json"),
    ("/console/vendor/maplibre-gl/maplibre-gl.js", "text/javascript"),
    ("/console/vendor/maplibre-gl/maplibre-gl.css", "text/css"),
])
def test_the_pages_files_and_maplibre_come_from_the_app_not_a_cdn(client: TestClient, path: str,
                                                                   media_type: str) -> None:
    response = client.get(path)

    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", [
    "/console/package.json", "/console/package-lock.json", "/console/js/../package.json",
    "/console/js/%2e%2e/package.json", "/console/vendor/maplibre-gl/../package.json",
    "/console/vendor/maplibre-gl/LICENSE.txt", "/console/node_modules/maplibre-gl/package.json",
    "/console/js/missing.js", "/console/js/", "/console/i18n/.hidden.json", "/console/../api/app.py",
])
def test_nothing_else_on_disk_is_reachable(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404, path
    assert response.headers["content-type"] == "application/problem+json"


def test_both_languages_have_every_text() -> None:
    def keys(node: dict[str, object], prefix: str = "") -> set[str]:
        found: set[str] = set()
        for name, value in node.items():
            found |= keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {prefix + name}
        return found

    zh, en = (json.loads((CONSOLE_DIR / "i18n" / f"{lang}.json").read_text(encoding="utf-8")) for lang in ("zh", "en"))
    assert keys(zh) == keys(en)
    used = {element.split('"')[1] for element in (CONSOLE_DIR / "index.html").read_text(encoding="utf-8")
            .split('data-i18n=')[1:]}
    assert used <= keys(en)


def test_maplibre_travels_compressed_to_a_browser_that_accepts_it(client: TestClient) -> None:
    """1 MB of script on a field laptop's weak link: 310 KB with brotli at the default quality."""
    plain = client.get("/console/vendor/maplibre-gl/maplibre-gl.js", headers={"Accept-Encoding": "identity"})
    packed = client.get("/console/vendor/maplibre-gl/maplibre-gl.js", headers={"Accept-Encoding": "br"})

    assert packed.headers["content-encoding"] == "br"
    assert packed.content == plain.content
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


def test_an_unchanged_file_is_not_sent_again(client: TestClient) -> None:
    first = client.get("/console/js/main.js")
    again = client.get("/console/js/main.js", headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304 and again.content == b""
    assert client.get("/console/js/map.js", headers={"If-None-Match": first.headers["etag"]}).status_code == 200
