"""Input the database cannot hold is refused at the edge: a 422 problem+json that names the field, and
nothing stored. A careless or hostile client must never see a 500 (issue 7 §3)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.factories import feature, row_count, url

Auth = Callable[[Role], dict[str, str]]
PROBLEM = "application/problem+json"
B = "/api/v1"
BEYOND_INT64 = 2**63  # one more than PostgreSQL's largest bigint


def assert_rejected(response: Any, field: str, status: int = 422) -> dict[str, Any]:
    """A problem+json answer whose `errors` name `field`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def cursor(text_value: str) -> str:
    return base64.urlsafe_b64encode(text_value.encode()).decode().rstrip("=")


@pytest.fixture
def admin(auth: Auth) -> dict[str, str]:
    return auth(Role.admin)


# --- NUL characters (PostgreSQL text and jsonb cannot hold U+0000) ---------------------------------

def test_nul_in_a_sign_in_form_field_is_422_naming_it(client: TestClient) -> None:
    response = client.post(f"{B}/auth/token", content=b"username=admin%00&password=x",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_rejected(response, "username")


def test_nul_in_a_query_filter_is_422_naming_it(client: TestClient, admin: dict[str, str]) -> None:
    assert_rejected(client.get(f"{B}/network/lines?external_id=a%00b", headers=admin), "query.external_id")


def test_nul_in_a_path_segment_is_422(client: TestClient, admin: dict[str, str]) -> None:
    assert_rejected(client.get(f"{B}/rule-sets/CN-EPP%00/1", headers=admin), "path")


def test_nul_in_a_json_property_is_422_naming_it_and_nothing_is_stored(
        client: TestClient, admin: dict[str, str], owner_engine: Engine) -> None:
    response = client.post(url("lines"), json=feature("lines", name="Feeder\x0012"), headers=admin)

    assert_rejected(response, "properties.name")
    assert row_count(owner_engine, "lines") == 0
    assert row_count(owner_engine, "audit_log") == 0


def test_nul_deep_in_free_form_json_is_422_naming_the_path(client: TestClient, admin: dict[str, str]) -> None:
    body = {"geometry": {"type": "Point", "coordinates": [117.2272, 31.8206]}, "activity": "crane",
            "parameters": {"notes": ["fine", "bad\x00"]}}
    assert_rejected(client.post(f"{B}/screenings", json=body, headers=admin), "parameters.notes.1")


def test_an_escaped_backslash_before_u0000_is_ordinary_text(client: TestClient, admin: dict[str, str]) -> None:
    sent = feature("lines", name="C:\\u0000 drive")
    response = client.post(url("lines"), json=sent, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["name"] == "C:\\u0000 drive"


def test_a_body_that_cannot_be_decoded_is_422_naming_the_body(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(url("lines"), content=b"\xff\xfe{}", headers={**admin, "Content-Type": "application/json"})
    assert_rejected(response, "body")
    broken = client.post(f"{B}/imports/geo", content=b"--x\r\nnot multipart", headers={
        **admin, "Content-Type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 422 and broken.headers["content-type"] == PROBLEM


# --- integers beyond 64 bits in paths, filters, bodies and cursors ----------------------------------

@pytest.mark.parametrize("path,field", [
    (f"/network/lines/{BEYOND_INT64}", "path.feature_id"),
    (f"/customers/{BEYOND_INT64}", "path.feature_id"),
    (f"/zones/manual/{BEYOND_INT64}", "path.feature_id"),
    (f"/cases/{BEYOND_INT64}", "path.case_id"),
    (f"/cases/1/documents/{BEYOND_INT64}", "path.document_id"),
    (f"/imports/{BEYOND_INT64}", "path.job_id"),
    (f"/screenings/{BEYOND_INT64}", "path.screening_id"),
])
def test_an_id_beyond_64_bits_in_a_path_is_422_naming_it(client: TestClient, admin: dict[str, str], path: str,
                                                         field: str) -> None:
    assert_rejected(client.get(B + path, headers=admin), field)


def test_the_largest_bigint_is_an_honest_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get(f"{B}/network/lines/{2**63 - 1}", headers=admin)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("query,field", [
    (f"/network/transformers?substation_id={BEYOND_INT64}", "query.substation_id"),
    (f"/customers?transformer_id={BEYOND_INT64}", "query.transformer_id"),
    (f"/network/lines?limit={BEYOND_INT64}", "query.limit"),
    (f"/cases?owner_id={BEYOND_INT64}", "query.owner_id"),
    (f"/cases?limit={BEYOND_INT64}", "query.limit"),
    (f"/requests?after_id={BEYOND_INT64}", "query.after_id"),  # the list's form before cursors
    (f"/zones?line_id={BEYOND_INT64}", "query.line_id"),
    (f"/zones?limit={BEYOND_INT64}", "query.limit"),
    (f"/audit?limit={BEYOND_INT64}", "query.limit"),
])
def test_an_integer_filter_beyond_64_bits_is_422_naming_it(client: TestClient, admin: dict[str, str], query: str,
                                                           field: str) -> None:
    assert_rejected(client.get(B + query, headers=admin), field)


@pytest.mark.parametrize("path,sent", [
    ("/network/lines", cursor(f"id:{BEYOND_INT64}")),
    ("/audit", cursor(f"id:{BEYOND_INT64}")),
    ("/cases", cursor(f"id:{BEYOND_INT64}")),
    ("/zones", cursor(f"zone:0:{BEYOND_INT64}")),
    ("/network/lines", cursor("id:-" + "9" * 30)),
    ("/network/lines", cursor("id:1_000")),
])
def test_a_cursor_holding_a_number_beyond_64_bits_is_422(client: TestClient, admin: dict[str, str], path: str,
                                                         sent: str) -> None:
    assert_rejected(client.get(f"{B}{path}", params={"cursor": sent}, headers=admin), "cursor")


def test_an_id_beyond_64_bits_in_a_json_body_is_422_naming_it(client: TestClient, admin: dict[str, str]) -> None:
    body = {"direction": "downstream", "element": {"type": "line", "id": BEYOND_INT64}}
    assert_rejected(client.post(f"{B}/network/trace", json=body, headers=admin), "element.id")
    response = client.post(f"{B}/cases/1/hand-over", json={"to_user_id": BEYOND_INT64, "reason": "leave"},
                           headers={**admin, "If-Match": '"1"'})
    assert_rejected(response, "to_user_id")


# --- X-Request-ID: stored with every audit record, so bounded by that column ------------------------

def test_a_request_id_longer_than_the_audit_column_is_422_and_nothing_is_stored(
        client: TestClient, admin: dict[str, str], owner_engine: Engine) -> None:
    response = client.post(url("lines"), json=feature("lines"), headers={**admin, "X-Request-ID": "r" * 65})

    assert_rejected(response, "header.X-Request-ID")
    assert response.headers["x-request-id"] != "r" * 65  # the answer still carries a usable id
    assert row_count(owner_engine, "lines") == 0


@pytest.mark.parametrize("sent", ["", "two words", "<script>", "é".encode() * 3])
def test_a_request_id_with_unsafe_characters_is_422(client: TestClient, admin: dict[str, str],
                                                    sent: str | bytes) -> None:
    headers = {**admin, "X-Request-ID": sent}
    assert_rejected(client.get(url("lines"), headers=headers), "header.X-Request-ID")


def test_a_request_id_of_64_safe_characters_is_kept_in_the_audit_log(
        client: TestClient, admin: dict[str, str], owner_engine: Engine) -> None:
    request_id = "trace-0123456789abcdef:span.0123456789abcdef_0123456789abcdef-012"[:64]
    response = client.post(url("lines"), json=feature("lines"), headers={**admin, "X-Request-ID": request_id})

    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == request_id
    with owner_engine.connect() as conn:
        stored = conn.execute(text("SELECT request_id FROM audit_log")).scalars().all()
    assert stored == [request_id]


# --- text longer than its column ---------------------------------------------------------------------

def test_an_action_note_longer_than_the_audit_reason_is_422(client: TestClient, auth: Auth) -> None:
    headers = {**auth(Role.approver), "If-Match": '"1"'}
    too_long = client.post(f"{B}/cases/1/actions/approve", json={"note": "n" * 501}, headers=headers)
    assert_rejected(too_long, "note")
    fits = client.post(f"{B}/cases/1/actions/approve", json={"note": "n" * 500}, headers=headers)
    assert fits.status_code == 404, fits.text  # valid input; there is just no case 1


def test_a_hand_over_reason_longer_than_the_audit_reason_is_422(client: TestClient, auth: Auth) -> None:
    headers = {**auth(Role.approver), "If-Match": '"1"'}
    response = client.post(f"{B}/cases/1/hand-over", json={"to_user_id": 1, "reason": "r" * 501}, headers=headers)
    assert_rejected(response, "reason")


def test_an_upload_name_longer_than_the_job_record_is_422(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(f"{B}/imports/geo", data={"layer": "lines"}, headers=admin,
                           files={"file": ("x" * 400 + ".geojson", b'{"type":"FeatureCollection","features":[]}')})
    assert_rejected(response, "file")


def test_every_stored_text_field_is_limited_to_its_column(app: Any) -> None:
    """Each string field of every request schema the API reads, compared with the column it is
    stored in: a schema that allows more than the column is a 500 waiting for a long value."""
    from tests.api.schema_columns import string_fields_and_columns

    mismatches = [f"{where}: schema max_length {limit}, column {column} holds {length}"
                  for where, limit, column, length in string_fields_and_columns(app)
                  if length is not None and limit != length]
    assert mismatches == []


def test_the_column_walk_covers_the_known_long_text_fields(app: Any) -> None:
    from tests.api.schema_columns import string_fields_and_columns

    checked = {where: column for where, _, column, _ in string_fields_and_columns(app)}
    assert checked["ActionIn.note"] == "audit_log.reason"
    assert checked["HandOverIn.reason"] == "audit_log.reason"
    assert checked["ManualZoneProps.reason"] == "manual_zones.reason"
    assert checked["CaseIn.applicant_name"] == "cases.applicant_name"


# --- dates and times are ISO 8601 text, never numbers -------------------------------------------------

@pytest.mark.parametrize("query,field", [
    ("/audit?until=0.5", "query.until"),
    ("/audit?since=1700000000", "query.since"),
    ("/audit?until=2026-11-29T08:30:00Z&since=0", "query.since"),
    ("/zones?on_date=0", "query.on_date"),
    ("/zones?on_date=20261129", "query.on_date"),
])
def test_a_number_where_a_date_belongs_is_422(client: TestClient, admin: dict[str, str], query: str,
                                              field: str) -> None:
    assert_rejected(client.get(B + query, headers=admin), field)


def test_iso_dates_and_times_are_accepted(client: TestClient, admin: dict[str, str]) -> None:
    period = {"since": "2026-11-29T08:30:00Z", "until": "2026-11-30T08:30:00+08:00"}
    assert client.get(f"{B}/audit", params=period, headers=admin).status_code == 200
    assert client.get(f"{B}/zones?on_date=2026-11-29", headers=admin).status_code == 200


@pytest.mark.parametrize("on_date", [0, 1700000000, "0", "2026-11-29T00:00:00"])
def test_a_screening_on_date_must_be_an_iso_date(client: TestClient, admin: dict[str, str], on_date: Any) -> None:
    body = {"geometry": {"type": "Point", "coordinates": [117.2272, 31.8206]}, "activity": "crane",
            "parameters": {"height_m": 10}, "on_date": on_date}
    assert_rejected(client.post(f"{B}/screenings", json=body, headers=admin), "on_date")


def test_a_manual_zone_period_must_be_iso_dates(client: TestClient, auth: Auth) -> None:
    zone = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
        [[117.22, 31.82], [117.23, 31.82], [117.23, 31.83], [117.22, 31.82]]]},
        "properties": {"external_id": "mz-1", "authority": "Bureau", "reason": "substation", "valid_from": 0}}
    response = client.post(f"{B}/zones/manual", json=zone, headers=auth(Role.admin))
    assert_rejected(response, "properties.valid_from")


# --- an unexpected error is a 500 on a connection that stays usable ----------------------------------

def test_an_unexpected_error_is_a_problem_500_and_the_keep_alive_connection_survives(settings: Any) -> None:
    """Over a real server: the client's next request on the same connection is answered."""
    import http.client

    from api.app import create_app
    from tests.api.live_server import serve

    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("a bug nobody anticipated")

    def fine() -> dict[str, bool]:
        return {"ok": True}

    app.add_api_route("/test-only/boom", boom)
    app.add_api_route("/test-only/fine", fine)

    with serve(app) as (host, port):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/test-only/boom", headers={"X-Request-ID": "boom-1"})
        failed = connection.getresponse()
        body = failed.read()
        first_socket = connection.sock

        assert failed.status == 500
        assert failed.getheader("content-type") == PROBLEM
        assert b"a bug nobody anticipated" not in body and b'"request_id":"boom-1"' in body
        assert (failed.getheader("connection") or "").lower() != "close"

        connection.request("GET", "/test-only/fine")
        after = connection.getresponse()
        assert after.status == 200 and after.read() == b'{"ok":true}'
        assert connection.sock is first_socket  # the same connection, not a silent reconnect
        connection.close()
