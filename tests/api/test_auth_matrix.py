"""Who may call what: every route in the OpenAPI schema, with every role and with no token.

`EXPECTED` is the product's permission specification, written out independently of the code. A
new route fails this test until someone decides, here, who may call it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient

from api.app import create_app
from api.dependencies import require
from core.permissions import Role
from core.settings import Settings
from gis.network.permissions import NETWORK_READ

ALL = frozenset(Role)
EDITORS = frozenset({Role.admin, Role.dispatcher})
PUBLIC = None  # no sign-in needed
SCREENERS = frozenset({Role.admin, Role.dispatcher, Role.inspector, Role.approver})

LAYERS = ("substations", "transformers", "lines", "poles", "switches")

EXPECTED: dict[tuple[str, str], frozenset[Role] | None] = {
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/health/details"): frozenset({Role.admin}),
    ("GET", "/api/v1/users"): frozenset({Role.admin}),
    ("POST", "/api/v1/users"): frozenset({Role.admin}),
    ("POST", "/api/v1/users/{user_id}/disable"): frozenset({Role.admin}),
    ("POST", "/api/v1/users/{user_id}/enable"): frozenset({Role.admin}),
    ("PUT", "/api/v1/users/{user_id}/role"): frozenset({Role.admin}),
    ("GET", "/api/v1/users/{user_id}/work-area"): frozenset({Role.admin}),
    ("PUT", "/api/v1/users/{user_id}/work-area"): frozenset({Role.admin}),
    # Everyone signed in has a live feed; what it carries depends on the role (tests/core/events).
    ("GET", "/api/v1/events"): ALL,
    ("GET", "/api/v1/webhooks"): frozenset({Role.admin}),
    ("POST", "/api/v1/webhooks"): frozenset({Role.admin}),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): frozenset({Role.admin}),
    ("POST", "/api/v1/webhooks/{webhook_id}/disable"): frozenset({Role.admin}),
    ("POST", "/api/v1/webhooks/{webhook_id}/enable"): frozenset({Role.admin}),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): frozenset({Role.admin}),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): frozenset({Role.admin}),
    ("POST", "/api/v1/users/{user_id}/qualifications"): frozenset({Role.admin}),
    ("DELETE", "/api/v1/users/{user_id}/qualifications/{qualification_id}"): frozenset({Role.admin}),
    ("POST", "/api/v1/auth/sign-out"): ALL,
    ("POST", "/api/v1/auth/password"): ALL,
    ("GET", "/api/v1/audit"): frozenset({Role.admin, Role.auditor}),
    ("POST", "/api/v1/network/trace"): ALL,
    ("GET", "/api/v1/customers"): ALL,
    ("GET", "/api/v1/customers/{feature_id}"): ALL,
    ("POST", "/api/v1/customers"): EDITORS,
    ("PATCH", "/api/v1/customers/{feature_id}"): EDITORS,
    ("DELETE", "/api/v1/customers/{feature_id}"): EDITORS,
    ("POST", "/api/v1/imports/geo"): EDITORS,
    ("POST", "/api/v1/imports/simbench"): EDITORS,
    ("GET", "/api/v1/imports/{job_id}"): ALL,
    ("POST", "/api/v1/imports/{job_id}/retry"): EDITORS,
    ("GET", "/api/v1/zones"): ALL,
    # Vector tiles: each layer's read permission (every role reads every layer today).
    ("GET", "/tiles/style.json"): ALL,
    ("GET", "/tiles/{layer}.json"): ALL,
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): ALL,
    ("GET", "/api/v1/rule-sets"): ALL,
    ("GET", "/api/v1/rule-sets/{code}/{version}"): ALL,
    ("POST", "/api/v1/rule-sets"): frozenset({Role.admin}),
    ("POST", "/api/v1/screenings"): SCREENERS,
    ("POST", "/api/v1/screenings/batch"): SCREENERS,
    ("GET", "/api/v1/screenings/{screening_id}"): ALL,
    ("POST", "/api/v1/cases"): frozenset({Role.admin, Role.approver}),
    ("POST", "/api/v1/cases/encroachments"): frozenset({Role.admin, Role.dispatcher, Role.inspector}),
    ("GET", "/api/v1/cases"): ALL,
    ("GET", "/api/v1/cases/{case_id}"): ALL,
    ("GET", "/api/v1/cases/{case_id}/documents/{document_id}"): ALL,
    # Every role reaches these; which action a role may take, and who may hand over, is decided per
    # case by the workflow (tests/cases/test_case_workflow.py).
    ("POST", "/api/v1/cases/{case_id}/actions/{action}"): ALL,
    ("POST", "/api/v1/cases/{case_id}/hand-over"): ALL,
    ("GET", "/api/v1/calendars/{code}"): ALL,
    # Field work (issue 9). Every role reads tasks (an inspector only their own) and reaches the task
    # routes; which action, field, answer or finding a role may give is decided per task
    # (tests/inspections/test_task_workflow.py).
    ("POST", "/api/v1/tasks"): frozenset({Role.admin, Role.dispatcher, Role.supervisor}),
    ("GET", "/api/v1/tasks"): ALL,
    ("GET", "/api/v1/tasks/{task_id}"): ALL,
    ("PATCH", "/api/v1/tasks/{task_id}"): ALL,
    ("POST", "/api/v1/tasks/{task_id}/actions"): ALL,
    ("PUT", "/api/v1/tasks/{task_id}/answers"): ALL,
    ("POST", "/api/v1/tasks/{task_id}/findings"): ALL,
    ("GET", "/api/v1/findings"): frozenset({Role.admin, Role.dispatcher, Role.supervisor, Role.auditor,
                                            Role.approver}),
    ("POST", "/api/v1/checklists"): frozenset({Role.admin, Role.supervisor}),
    ("GET", "/api/v1/checklists"): ALL,
    ("POST", "/api/v1/checklists/{code}/versions"): frozenset({Role.admin, Role.supervisor}),
    ("GET", "/api/v1/checklists/{code}/versions/{version}"): ALL,
    ("POST", "/api/v1/quality/samples"): frozenset({Role.admin, Role.auditor}),
    ("POST", "/api/v1/quality/audits/{audit_id}/grade"): frozenset({Role.admin, Role.auditor}),
    # Meter reading (issue 9): dispatchers build the books, hand them to readers and open rounds;
    # inspectors record readings of their own books (checked per book, tests/inspections/readings).
    ("POST", "/api/v1/reading-books/rebuild"): EDITORS,
    ("GET", "/api/v1/reading-books"): ALL,
    ("GET", "/api/v1/reading-books/{book_id}"): ALL,
    ("PUT", "/api/v1/reading-books/{book_id}/reader"): EDITORS,
    ("POST", "/api/v1/reading-books/{book_id}/rounds"): EDITORS,
    ("POST", "/api/v1/readings"): frozenset({Role.admin, Role.inspector}),
    ("GET", "/api/v1/readings"): ALL,
    ("GET", "/api/v1/readings/codes"): ALL,
    ("PUT", "/api/v1/calendars/{code}"): frozenset({Role.admin}),
    # Anyone signed in registers, lists and revokes their own devices (tests/inspections/sync).
    ("POST", "/api/v1/devices"): ALL,
    ("GET", "/api/v1/devices"): ALL,
    ("POST", "/api/v1/devices/{device_id}/revoke"): ALL,
    # Only a device token of an inspector opens pull: every sign-in token is refused (403).
    ("GET", "/api/v1/sync/pull"): frozenset(),
    ("POST", "/api/v1/positions"): frozenset({Role.admin, Role.inspector}),
    ("GET", "/api/v1/positions"): frozenset({Role.admin, Role.dispatcher, Role.supervisor, Role.inspector}),
    ("GET", "/api/v1/positions/latest"): frozenset({Role.admin, Role.dispatcher, Role.supervisor, Role.inspector}),
    # Patrol cycles are the utility's standards: administrators keep them.
    ("GET", "/api/v1/inspection-plans"): frozenset({Role.admin}),
    ("GET", "/api/v1/inspection-plans/{code}"): frozenset({Role.admin}),
    ("PUT", "/api/v1/inspection-plans/{code}"): frozenset({Role.admin}),
    # Everyone signed in keeps their own personal access tokens (tests/core/users/test_personal_tokens.py).
    ("POST", "/api/v1/users/me/tokens"): ALL,
    ("GET", "/api/v1/users/me/tokens"): ALL,
    ("DELETE", "/api/v1/users/me/tokens/{token_id}"): ALL,
    # Route planning (issue 12): administrators replace the road network; planners see which one is in use.
    ("POST", "/api/v1/roads/imports"): frozenset({Role.admin}),
    ("GET", "/api/v1/roads"): frozenset({Role.admin, Role.dispatcher, Role.supervisor}),
}
# OGC API Features (issue 10): every signed-in user; each collection then needs its layer's read
# permission (tests/gis/layers/test_features_gdal.py).
for _ogc_path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/{collection_id}",
                  "/ogc/collections/{collection_id}/queryables", "/ogc/collections/{collection_id}/schema",
                  "/ogc/collections/{collection_id}/items",
                  "/ogc/collections/{collection_id}/items/{feature_id}"):
    EXPECTED[("GET", _ogc_path)] = ALL
# Sync push (h/syncpush): a push needs a device token, so with a person's token (this walk) every role
# is refused; a device pushes as its inspector (tests/inspections/sync). The dispatch desk settles the rest.
SYNC_DESK = frozenset({Role.admin, Role.dispatcher, Role.supervisor})
EXPECTED[("POST", "/api/v1/sync/push")] = frozenset()
EXPECTED[("GET", "/api/v1/sync/mutations")] = frozenset({Role.admin, Role.inspector})
EXPECTED[("GET", "/api/v1/sync/backlog")] = SYNC_DESK
EXPECTED[("POST", "/api/v1/sync/backlog/{backlog_id}/resolve")] = SYNC_DESK
EXPECTED[("GET", "/api/v1/sync/conflicts")] = SYNC_DESK
EXPECTED[("POST", "/api/v1/sync/conflicts/{conflict_id}/resolve")] = SYNC_DESK
# Photo evidence (issue 11): those who work on records attach photos, every role reads; whether a
# person may attach to or see one record's photos is that record's rule (tests/media).
EVIDENCE_UPLOADERS = frozenset({Role.admin, Role.inspector, Role.dispatcher, Role.supervisor, Role.approver})
EXPECTED[("POST", "/api/v1/evidence/uploads")] = EVIDENCE_UPLOADERS
EXPECTED[("GET", "/api/v1/evidence/{evidence_id}/parts")] = EVIDENCE_UPLOADERS
EXPECTED[("POST", "/api/v1/evidence/{evidence_id}/complete")] = EVIDENCE_UPLOADERS
EXPECTED[("GET", "/api/v1/evidence/{evidence_id}")] = ALL
EXPECTED[("GET", "/api/v1/evidence/{evidence_id}/content")] = ALL
EXPECTED[("GET", "/api/v1/records/{kind}/{ref}/evidence")] = ALL
for _layer in LAYERS:
    EXPECTED[("GET", f"/api/v1/network/{_layer}")] = ALL
    EXPECTED[("GET", f"/api/v1/network/{_layer}/{{feature_id}}")] = ALL
    EXPECTED[("POST", f"/api/v1/network/{_layer}")] = EDITORS
    EXPECTED[("PATCH", f"/api/v1/network/{_layer}/{{feature_id}}")] = EDITORS
    EXPECTED[("DELETE", f"/api/v1/network/{_layer}/{{feature_id}}")] = EDITORS
for _zone_layer in ("manual", "built_up_areas"):  # drawn by the GIS team (dispatchers) and admins
    EXPECTED[("GET", f"/api/v1/zones/{_zone_layer}")] = ALL
    EXPECTED[("GET", f"/api/v1/zones/{_zone_layer}/{{feature_id}}")] = ALL
    EXPECTED[("POST", f"/api/v1/zones/{_zone_layer}")] = EDITORS
    EXPECTED[("PATCH", f"/api/v1/zones/{_zone_layer}/{{feature_id}}")] = EDITORS
    EXPECTED[("DELETE", f"/api/v1/zones/{_zone_layer}/{{feature_id}}")] = EDITORS
# Photo evidence (issue 11): deleting is an administrator's act; a record's custody chain is checked
# by whoever may see that record's photos (the record's own rule, tests/media/test_custody.py).
EXPECTED[("POST", "/api/v1/evidence/{evidence_id}/deletion")] = frozenset({Role.admin})
EXPECTED[("GET", "/api/v1/records/{kind}/{ref}/evidence-chain/verify")] = ALL


def _routes(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").json()
    return sorted((method.upper(), path) for path, ops in spec["paths"].items() for method in ops)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = re.sub(r"\{[a-z_]+\}", "999999", path)
    # Bodies are deliberately invalid: an allowed caller gets past authorisation and is then stopped
    # by validation (422) or a missing record (404), so the walk never changes data.
    if method in {"POST", "PATCH", "PUT"}:
        return client.request(method, url, json={"__not_a_field__": True}, headers=headers).status_code
    return client.request(method, url, headers=headers).status_code


def answer_is_right(allowed: frozenset[Role] | None, role: Role | None, status: int) -> bool:
    """Whether `status` is the answer `role` (None: no token) must get from a route open to `allowed`.

    A server error is never right: a 500 does not show that the caller got past authorisation (it
    may have happened before the check, or instead of it), and it is a defect of its own."""
    if status >= 500:
        return False
    if allowed is PUBLIC:
        return status not in (401, 403)
    if role is None:
        return status == 401
    if role in allowed:
        return status not in (401, 403)
    return status == 403


def wrong_answers(client: TestClient, role: Role | None, headers: Callable[[], dict[str, str]],
                  expected: dict[tuple[str, str], frozenset[Role] | None]) -> list[str]:
    """Every route of the schema called as `role`; the calls whose answer is not the right one."""
    wrong: list[str] = []
    for method, path in _routes(client):
        status = _call(client, method, path, headers())
        if not answer_is_right(expected[(method, path)], role, status):
            wrong.append(f"{method} {path}: {status}")
    return wrong


def test_every_route_has_a_declared_audience(client: TestClient) -> None:
    assert set(_routes(client)) == set(EXPECTED)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_each_role_gets_exactly_the_routes_it_is_allowed(
    client: TestClient, auth: Callable[[Role], dict[str, str]], role: Role | None,
    celery_worker: subprocess.Popen[bytes],
) -> None:
    """With every backing service up (the worker too, which health checks), no call may fail."""
    # A fresh token per route: the walk signs out (which revokes the token it was sent with).
    assert wrong_answers(client, role, lambda: auth(role) if role else {}, EXPECTED) == []


def test_the_walk_reports_a_server_error_on_a_route_the_role_may_call(
    settings: Settings, auth: Callable[[Role], dict[str, str]], celery_worker: subprocess.Popen[bytes]
) -> None:
    """The class of defect the walk once let through: a route that fails with 500 for the roles
    allowed to call it was counted as "allowed" (500 is neither 401 nor 403)."""
    app = create_app(settings)

    @app.get("/api/v1/broken-for-this-test", dependencies=[Depends(require(NETWORK_READ))])
    def broken() -> None:
        raise RuntimeError("a defect behind the permission check")

    broken_route = ("GET", "/api/v1/broken-for-this-test")
    with TestClient(app, raise_server_exceptions=False) as client:
        wrong = wrong_answers(client, Role.inspector, lambda: auth(Role.inspector),
                              {**EXPECTED, broken_route: ALL})

    assert wrong == ["GET /api/v1/broken-for-this-test: 500"]


def test_sign_in_returns_a_bearer_token_that_opens_the_api(client: TestClient, role_users: dict[Role, int]) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "test-inspector", "password": "inspector-password"})

    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer" and token["expires_in"] > 0
    listed = client.get("/api/v1/network/lines", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert listed.status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, role_users: dict[Role, int]) -> None:
    wrong_password = client.post("/api/v1/auth/token", data={"username": "test-inspector", "password": "nope-nope"})
    unknown_user = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "nope-nope"})

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json()["detail"] == unknown_user.json()["detail"]
    assert wrong_password.headers["content-type"] == "application/problem+json"


def test_tampered_or_expired_tokens_are_rejected(client: TestClient, auth: Callable[[Role], dict[str, str]],
                                                 settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    import jwt

    good = auth(Role.admin)["Authorization"].removeprefix("Bearer ")
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    expired = jwt.encode({"sub": "1", "role": "admin", "iss": settings.auth.issuer,
                          "exp": datetime.now(UTC) - timedelta(minutes=1)},
                         settings.auth.keys[0].secret.get_secret_value(), algorithm="HS256",
                         headers={"kid": settings.auth.keys[0].kid})
    forged_role = jwt.encode({"sub": "1", "role": "admin", "iss": settings.auth.issuer,
                              "exp": datetime.now(UTC) + timedelta(minutes=5)}, "some-other-secret-that-is-long-enough-for-hs256", algorithm="HS256")

    for token in (tampered, expired, forged_role):
        response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
