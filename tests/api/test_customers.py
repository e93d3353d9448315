"""Customers: who sees a phone number, who is recorded as having seen it, and who may add customers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.factories import created, feature, row_count, url

Auth = Callable[[Role], dict[str, str]]
PHONE = "+86 138 0013 8000"
MASKED = "+86 *** **** **00"  # digits starred except the first two and the last two


def contact_views(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor_name, entity_id, after FROM audit_log "
                                 "WHERE action = 'customer.contact_view' ORDER BY id"))
        return [dict(r._mapping) for r in rows]


@pytest.fixture
def customer(client: TestClient, auth: Auth) -> dict[str, Any]:
    return created(client, auth(Role.dispatcher), "customers", contact_phone=PHONE, account_number="ACC-42")


@pytest.mark.parametrize("role", [Role.approver, Role.auditor])
def test_phone_is_masked_for_roles_without_contact_rights_and_no_disclosure_is_logged(
        client: TestClient, auth: Auth, owner_engine: Engine, customer: dict[str, Any], role: Role) -> None:
    logged_before = contact_views(owner_engine)

    one = client.get(f"{url('customers')}/{customer['id']}", headers=auth(role))
    many = client.get(url("customers"), headers=auth(role))

    assert one.status_code == 200 and many.status_code == 200
    assert one.json()["properties"]["contact_phone"] == MASKED
    assert [f["properties"]["contact_phone"] for f in many.json()["features"]] == [MASKED]
    assert contact_views(owner_engine) == logged_before


@pytest.mark.parametrize("role", [Role.dispatcher, Role.inspector])
def test_phone_is_shown_in_full_to_roles_that_call_customers_and_the_disclosure_is_logged(
        client: TestClient, auth: Auth, owner_engine: Engine, customer: dict[str, Any], role: Role) -> None:
    logged_before = len(contact_views(owner_engine))

    response = client.get(f"{url('customers')}/{customer['id']}", headers=auth(role))

    assert response.status_code == 200
    assert response.json()["properties"]["contact_phone"] == PHONE
    views = contact_views(owner_engine)
    assert len(views) == logged_before + 1
    assert views[-1]["actor_name"] == f"test-{role.value}"
    assert views[-1]["after"] == {"account_numbers": ["ACC-42"]}


def test_listing_several_customers_in_full_logs_every_account_shown(client: TestClient, auth: Auth,
                                                                    owner_engine: Engine) -> None:
    dispatcher = auth(Role.dispatcher)
    for account in ("ACC-1", "ACC-2"):
        created(client, dispatcher, "customers", account_number=account)
    created(client, dispatcher, "customers", account_number="ACC-3", contact_phone=None)
    logged_before = len(contact_views(owner_engine))

    response = client.get(url("customers"), headers=auth(Role.inspector))

    assert response.status_code == 200
    views = contact_views(owner_engine)
    assert len(views) == logged_before + 1
    assert views[-1]["after"] == {"account_numbers": ["ACC-1", "ACC-2"]}  # ACC-3 has no phone to disclose


def test_short_phone_numbers_show_only_the_last_two_digits(client: TestClient, auth: Auth) -> None:
    short = created(client, auth(Role.dispatcher), "customers", contact_phone="110-119")

    response = client.get(f"{url('customers')}/{short['id']}", headers=auth(Role.auditor))

    assert response.json()["properties"]["contact_phone"] == "***-*19"


def test_filters_select_key_accounts_and_categories(client: TestClient, auth: Auth) -> None:
    dispatcher = auth(Role.dispatcher)
    hospital = created(client, dispatcher, "customers", key_account=True, category="government")
    shop = created(client, dispatcher, "customers", category="commercial")
    created(client, dispatcher, "customers", category="residential")

    def listed(**params: Any) -> list[int]:
        response = client.get(url("customers"), params=params, headers=dispatcher)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["features"]]

    assert listed(key_account="true") == [hospital["id"]]
    assert listed(category="commercial") == [shop["id"]]


def test_inspector_cannot_create_customers(client: TestClient, auth: Auth, owner_engine: Engine) -> None:
    response = client.post(url("customers"), json=feature("customers"), headers=auth(Role.inspector))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert row_count(owner_engine, "customers") == 0


def test_dispatcher_can_create_customers(client: TestClient, auth: Auth, owner_engine: Engine) -> None:
    response = client.post(url("customers"), json=feature("customers"), headers=auth(Role.dispatcher))

    assert response.status_code == 201, response.text
    assert response.json()["properties"]["version"] == 1
    assert row_count(owner_engine, "customers") == 1


@pytest.mark.parametrize("phone", ["call me", "12", "+86 138 0013 8000 ext. 5"])
def test_invalid_phone_format_gets_422_and_writes_nothing(client: TestClient, auth: Auth,
                                                          owner_engine: Engine, phone: str) -> None:
    response = client.post(url("customers"), json=feature("customers", contact_phone=phone),
                           headers=auth(Role.dispatcher))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(e["field"] == "properties.contact_phone" for e in response.json()["errors"])
    assert row_count(owner_engine, "customers") == 0


def test_audit_history_masks_phones_for_auditors_but_keeps_them_for_admins(client: TestClient, auth: Auth) -> None:
    record = created(client, auth(Role.dispatcher), "customers", contact_phone=PHONE, account_number="ACC-77")
    params = {"entity_type": "customer", "entity_id": str(record["id"])}

    as_auditor = client.get("/api/v1/audit", params=params, headers=auth(Role.auditor)).json()["items"]
    as_admin = client.get("/api/v1/audit", params=params, headers=auth(Role.admin)).json()["items"]

    creation = next(r for r in as_auditor if r["action"] == "customer.create")
    assert creation["after"]["contact_phone"] != PHONE and creation["after"]["contact_phone"].endswith(PHONE[-2:])
    assert next(r for r in as_admin if r["action"] == "customer.create")["after"]["contact_phone"] == PHONE


def test_changing_an_account_number_to_one_in_use_gets_409_and_changes_nothing(client: TestClient,
                                                                              auth: Auth) -> None:
    headers = auth(Role.dispatcher)
    created(client, headers, "customers", account_number="ACC-1")
    second = created(client, headers, "customers", account_number="ACC-2")

    response = client.patch(f"{url('customers')}/{second['id']}", json={"properties": {"account_number": "ACC-1"}},
                            headers={**headers, "If-Match": '"1"'})

    assert response.status_code == 409
    after = client.get(f"{url('customers')}/{second['id']}", headers=headers).json()
    assert after["properties"]["account_number"] == "ACC-2" and after["properties"]["version"] == 1


def test_emptying_a_field_that_cannot_be_empty_gets_422(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.dispatcher)
    record = created(client, headers, "customers", account_number="ACC-3")

    response = client.patch(f"{url('customers')}/{record['id']}", json={"properties": {"name": None}},
                            headers={**headers, "If-Match": '"1"'})

    assert response.status_code == 422 and "name" in response.json()["detail"]
