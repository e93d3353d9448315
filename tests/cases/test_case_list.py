"""The list of cases pages like every other list: a page of `limit` cases in id order and an opaque
`next_cursor` for the next one (none after the last page); a cursor that is not one is 422. The
list's form before cursors still answers at /requests for the clients that use it.

The overdue filter reads the API's clock: set to after a case's deadline, the case is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.cases.conftest import FAR, REQUESTS, Clock, Desk, assert_problem, connection_body

SHANGHAI = ZoneInfo("Asia/Shanghai")


def page(desk: Desk, **params: Any) -> dict[str, Any]:
    response = desk.client.get(REQUESTS, params=params, headers=desk.people["approver"].headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_two_pages_of_cases_follow_each_other_without_overlap(desk: Desk) -> None:
    registered = [desk.register(connection_body(FAR))["id"] for _ in range(3)]

    first = page(desk, limit=2)
    second = page(desk, limit=2, cursor=first["next_cursor"])

    assert [c["id"] for c in first["items"]] == registered[:2]
    assert [c["id"] for c in second["items"]] == registered[2:]
    assert second["next_cursor"] is None  # a page shorter than the limit is the last


def test_a_full_last_page_still_points_to_an_empty_one(desk: Desk) -> None:
    registered = [desk.register(connection_body(FAR))["id"] for _ in range(2)]

    first = page(desk, limit=2)
    after = page(desk, limit=2, cursor=first["next_cursor"])

    assert [c["id"] for c in first["items"]] == registered and first["next_cursor"]
    assert after == {"items": [], "next_cursor": None}


def test_a_cursor_that_is_not_one_is_422_naming_it(desk: Desk) -> None:
    response = desk.client.get(REQUESTS, params={"cursor": "not-a-cursor"}, headers=desk.people["approver"].headers)

    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["cursor"]


def test_the_list_at_its_old_path_keeps_its_old_form(desk: Desk) -> None:
    registered = [desk.register(connection_body(FAR))["id"] for _ in range(3)]
    headers = desk.people["approver"].headers

    first = desk.client.get("/api/v1/requests", params={"limit": 2}, headers=headers)
    rest = desk.client.get("/api/v1/requests", params={"limit": 2, "after_id": registered[1]}, headers=headers)

    assert first.status_code == 200 and rest.status_code == 200, (first.text, rest.text)
    assert [c["id"] for c in first.json()] == registered[:2]
    assert [c["id"] for c in rest.json()] == registered[2:]


def test_the_overdue_list_and_the_remaining_time_follow_the_clock_the_api_is_given(clock: Clock, desk: Desk) -> None:
    registered_at = datetime(2026, 9, 30, 10, tzinfo=SHANGHAI)
    case_id, deadline = clock.register(connection_body(FAR), now=registered_at)
    assert deadline == datetime(2026, 10, 11, tzinfo=SHANGHAI)  # end of 10 Oct: 8, 9, 10 (make-up Saturday)

    clock.set(deadline - timedelta(hours=1))
    in_time = page(desk, overdue="true")
    clock.set(deadline + timedelta(hours=1))
    late = page(desk, overdue="true")

    assert in_time["items"] == []
    assert [c["id"] for c in late["items"]] == [case_id]
    assert late["items"][0]["remaining"]["overdue"] is True
