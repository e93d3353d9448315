"""An approval officer opens a case on the console and sees the inspector's photo: its thumbnail,
loaded in the browser from the presigned URL the console asked the API for with the officer's
token (an <img> cannot send it), with its capture time and distance, and a suspicious one badged
with its reason."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from core.storage import ObjectStorage
from tests.api.console.conftest import Console
from tests.cases.conftest import NEAR, Desk, connection_body, desk, network, people
from tests.media.case_evidence import add_photo, visit_task_uuid

# The approval console of the case tests (a line near the site, the case workers), by fixture name.
CASE_FIXTURES = (desk, network, people)
THUMB_LOADED = "const img = arguments[0].querySelector('img'); return img.complete && img.naturalWidth > 0;"


def test_the_case_panel_shows_a_photos_thumbnail_with_its_capture_time_and_distance(
        console: Console, desk: Desk, session_factory: sessionmaker[Session], storage: ObjectStorage) -> None:
    case = desk.surveyed(desk.register(connection_body(NEAR)), hazard=True)
    task = visit_task_uuid(session_factory, case["id"])
    verified = add_photo(session_factory, storage, kind="task", ref=task, seed=31,
                         captured_at=datetime(2026, 11, 29, 6, 30, tzinfo=UTC), distance_m=3.4)
    suspicious = add_photo(session_factory, storage, kind="task", ref=task, seed=32, state="suspicious",
                           captured_at=datetime(2026, 11, 29, 7, 0, tzinfo=UTC), distance_m=212.4,
                           reasons=[{"code": "location", "message": "212 m from the asset"}])

    console.sign_in("test-approver", "approver-password")
    console.js("window.gw.openCase(arguments[0]);", case["id"])

    item = console.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#case-photos li[data-id="{verified}"]'),
                        "the case lists its photo")[0]
    console.wait(lambda d: console.js(THUMB_LOADED, item), "the thumbnail loads from its presigned URL")
    assert "3.4 m from the asset" in item.text and "Taken" in item.text
    badged = console.driver.find_element(By.CSS_SELECTOR, f'#case-photos li[data-id="{suspicious}"] .suspicious')
    assert "Suspicious" in badged.text and "taken too far from the asset" in badged.text


def test_the_pages_policy_lets_images_come_from_the_object_store_only_besides_itself(
        client: TestClient, settings: Settings) -> None:
    policy = client.get("/console").headers["content-security-policy"]

    (img_src,) = [d.split()[1:] for d in policy.split(";") if d.split()[:1] == ["img-src"]]
    assert img_src == ["'self'", "data:", "blob:", f"http://{settings.s3.public_endpoint or settings.s3.endpoint}"]
