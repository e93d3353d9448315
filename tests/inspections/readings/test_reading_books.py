"""Reading books are built from the customers by the transformer that feeds them (台区), refreshed
set-based when customers move, and handed to a reader; only dispatchers build and hand them out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.readings.conftest import BOOKS, Meters

ROOT = Path(__file__).resolve().parents[3]


def members(meters: Meters, book_id: int) -> list[int]:
    response = meters.book(book_id)
    assert response.status_code == 200, response.text
    return [c["customer_id"] for c in response.json()["customers"]]


def test_each_transformer_feeding_customers_gets_a_book_with_exactly_its_customers(meters: Meters) -> None:
    east, west, idle = meters.transformer("East"), meters.transformer("West"), meters.transformer("Idle")
    east_customers = [meters.customer(east, account_number=f"E-{n}") for n in (2, 1, 3)]
    west_customer = meters.customer(west)
    meters.customer(None)  # fed by no known transformer: in no book

    outcome = meters.rebuilt()

    assert outcome == {"books_created": 2, "customers_added": 4, "customers_moved": 0, "customers_removed": 0,
                       "books_with_customers": 2}
    assert set(meters.books) == {east, west}  # the idle transformer feeds no one
    # Reading order is the account number's.
    assert members(meters, meters.books[east]["id"]) == [east_customers[1], east_customers[0], east_customers[2]]
    assert members(meters, meters.books[west]["id"]) == [west_customer]
    assert meters.books[east]["customer_count"] == 3
    assert meters.books[east]["name"] == "East"
    assert idle not in meters.books


def test_rebuilding_moves_reconnected_customers_and_drops_deleted_ones(meters: Meters, owner_engine: Engine) -> None:
    east, west = meters.transformer("East"), meters.transformer("West")
    moving, leaving, staying = meters.customer(east), meters.customer(east), meters.customer(east)
    meters.customer(west)
    meters.rebuilt()
    with owner_engine.begin() as conn:  # the network service re-derives 台区 from topology; here by hand
        conn.execute(text("UPDATE customers SET transformer_id = :west WHERE id = :id"), {"west": west, "id": moving})
        conn.execute(text("UPDATE customers SET deleted_at = now() WHERE id = :id"), {"id": leaving})

    outcome = meters.rebuilt()

    assert outcome["customers_moved"] == 1 and outcome["customers_removed"] == 1
    assert outcome["customers_added"] == 0 and outcome["books_created"] == 0
    assert members(meters, meters.books[east]["id"]) == [staying]
    assert moving in members(meters, meters.books[west]["id"])
    assert meters.books[east]["customer_count"] == 1


def test_rebuilding_twice_changes_nothing_the_second_time(meters: Meters) -> None:
    transformer = meters.transformer()
    meters.customer(transformer)
    meters.rebuilt()

    again = meters.rebuilt()

    assert again == {"books_created": 0, "customers_added": 0, "customers_moved": 0, "customers_removed": 0,
                     "books_with_customers": 1}


def test_only_dispatchers_build_books_and_hand_them_out(meters: Meters, role_users: dict[Role, int]) -> None:
    transformer = meters.transformer()
    meters.customer(transformer)

    assert meters.rebuild(Role.inspector).status_code == 403
    assert meters.rebuild(Role.auditor).status_code == 403
    meters.rebuilt()
    book_id = meters.books[transformer]["id"]
    refused = meters.client.put(f"{BOOKS}/{book_id}/reader", json={"reader_id": role_users[Role.inspector]},
                                headers={**meters.auth(Role.inspector), "If-Match": '"1"'})
    assert refused.status_code == 403


def test_a_book_goes_only_to_a_meter_reader_and_a_stale_version_is_refused(meters: Meters,
                                                                          role_users: dict[Role, int]) -> None:
    transformer = meters.transformer()
    meters.customer(transformer)
    meters.rebuilt()
    book_id = meters.books[transformer]["id"]
    headers = {**meters.auth(Role.dispatcher), "If-Match": '"1"'}

    not_a_reader = meters.client.put(f"{BOOKS}/{book_id}/reader", json={"reader_id": role_users[Role.approver]},
                                     headers=headers)
    given = meters.client.put(f"{BOOKS}/{book_id}/reader", json={"reader_id": role_users[Role.inspector]},
                              headers=headers)
    stale = meters.client.put(f"{BOOKS}/{book_id}/reader", json={"reader_id": None}, headers=headers)

    assert not_a_reader.status_code == 422 and not_a_reader.json()["errors"][0]["field"] == "reader_id"
    assert given.status_code == 200 and given.json()["reader_id"] == role_users[Role.inspector]
    assert given.headers["ETag"] == '"2"'
    assert stale.status_code == 412


def test_an_inspector_sees_only_the_books_they_read(meters: Meters, role_users: dict[Role, int]) -> None:
    mine, other = meters.transformer("Mine"), meters.transformer("Other")
    meters.customer(mine), meters.customer(other)
    meters.rebuilt()
    meters.give(meters.books[mine]["id"], role_users[Role.inspector])

    listed = meters.client.get(BOOKS, headers=meters.auth(Role.inspector)).json()["items"]

    assert [b["transformer_id"] for b in listed] == [mine]
    assert meters.book(meters.books[other]["id"], Role.inspector).status_code == 404


def test_the_command_line_rebuilds_the_books(meters: Meters) -> None:
    transformer = meters.transformer()
    meters.customer(transformer)

    result = subprocess.run([sys.executable, "-m", "gridwarden.cli", "readings", "books"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert "books created 1, customers added 1" in result.stdout
    assert meters.rebuilt()["books_created"] == 0
