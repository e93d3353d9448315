"""A reading is checked against the customer's previous one (DOMAIN.md §5): a change of consumption
above 1/2 (residential) or 1/3 (industrial and commercial) needs a reason code; a lower value needs
the backwards or replaced code; no-estimate customers are never estimated. Nothing is stored when
a reading is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from core.permissions import Role
from tests.inspections.readings.conftest import Area, Meters

# Last month's consumption is 100 (residential) or 300 (industrial, commercial) kWh.
RESIDENTIAL_HISTORY = (("2026-09", 1000.0), ("2026-10", 1100.0))
INDUSTRIAL_HISTORY = (("2026-09", 10000.0), ("2026-10", 10300.0))


def stored_readings(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM meter_readings")).scalar_one())


@pytest.mark.parametrize(("value", "consumption"), [(1150.0, 50.0), (1250.0, 150.0)],
                         ids=["half-less", "half-more"])
def test_a_residential_change_of_exactly_a_half_needs_no_reason(meters: Meters, area: Area, value: float,
                                                                consumption: float) -> None:
    meters.history(area.residential, *RESIDENTIAL_HISTORY)

    reading = meters.recorded(area.residential, "2026-11", value)

    assert reading["status"] == "valid"
    assert reading["previous_value"] == 1100.0 and reading["consumption"] == consumption


@pytest.mark.parametrize("value", [1149.99, 1250.01], ids=["below-half", "above-half"])
def test_a_residential_change_beyond_a_half_is_refused_without_a_reason(meters: Meters, area: Area,
                                                                        owner_engine: Engine, value: float) -> None:
    meters.history(area.residential, *RESIDENTIAL_HISTORY)
    before = stored_readings(owner_engine)

    refused = meters.read(area.residential, "2026-11", value)

    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["field"] == "reason_code" and error["rule"] == "consumption_change" and error["threshold"] == "1/2"
    assert "1/2" in refused.json()["detail"]
    assert stored_readings(owner_engine) == before
    assert meters.read(area.residential, "2026-11", value, reason_code="seasonal_use").status_code == 201


@pytest.mark.parametrize("customer", ["industrial", "commercial"])
def test_an_industrial_or_commercial_change_of_exactly_a_third_needs_no_reason(meters: Meters, area: Area,
                                                                              customer: str) -> None:
    customer_id = getattr(area, customer)
    meters.history(customer_id, *INDUSTRIAL_HISTORY)

    reading = meters.recorded(customer_id, "2026-11", 10700.0)  # 400 kWh: 1/3 above 300

    assert reading["consumption"] == 400.0


@pytest.mark.parametrize("customer", ["industrial", "commercial"])
@pytest.mark.parametrize("value", [10499.99, 10700.01], ids=["below-third", "above-third"])
def test_an_industrial_or_commercial_change_beyond_a_third_needs_a_reason(meters: Meters, area: Area, customer: str,
                                                                         value: float) -> None:
    customer_id = getattr(area, customer)
    meters.history(customer_id, *INDUSTRIAL_HISTORY)

    refused = meters.read(customer_id, "2026-11", value)

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["threshold"] == "1/3"
    explained = meters.read(customer_id, "2026-11", value, reason_code="production_change")
    assert explained.status_code == 201 and explained.json()["reason_code"] == "production_change"


def test_an_unknown_reason_code_is_refused_naming_the_known_ones(meters: Meters, area: Area) -> None:
    refused = meters.read(area.residential, "2026-11", 10.0, reason_code="because")

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason_code"
    assert "seasonal_use" in refused.json()["detail"]


def test_a_value_below_the_previous_one_needs_the_backwards_or_replaced_code(meters: Meters, area: Area) -> None:
    meters.history(area.residential, *RESIDENTIAL_HISTORY)

    refused = meters.read(area.residential, "2026-11", 1090.0, reason_code="other", note="?")
    backwards = meters.read(area.residential, "2026-11", 1090.0, anomaly_code="running_backwards")

    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "value_below_previous"
    assert backwards.status_code == 201 and backwards.json()["consumption"] == -10.0


def test_a_replaced_meter_may_read_lower_and_its_consumption_is_left_open(meters: Meters, area: Area) -> None:
    meters.history(area.residential, *RESIDENTIAL_HISTORY)

    replaced = meters.recorded(area.residential, "2026-11", 15.0, reason_code="meter_replaced")

    assert replaced["consumption"] is None and replaced["previous_value"] == 1100.0


@pytest.mark.parametrize(("category", "key_account"), [("industrial", False), ("government", False),
                                                       ("school", False), ("commercial", True)],
                         ids=["industrial", "government", "school", "large-key-account"])
def test_no_estimate_customers_can_never_be_estimated(meters: Meters, area: Area, owner_engine: Engine, category: str,
                                                      key_account: bool) -> None:
    customer = meters.customer(area.transformer_id, category=category, key_account=key_account)
    meters.rebuilt()

    refused = meters.read(customer, "2026-11", 500.0, estimated=True)

    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {"field": "estimated", "rule": "no_estimate",
                                           "message": refused.json()["detail"]}
    assert stored_readings(owner_engine) == 0


def test_a_household_may_be_estimated_and_the_reading_says_so(meters: Meters, area: Area) -> None:
    reading = meters.recorded(area.residential, "2026-11", 500.0, estimated=True)

    assert reading["estimated"] is True and reading["status"] == "valid"


def test_a_meter_that_was_read_needs_its_value(meters: Meters, area: Area) -> None:
    refused = meters.read(area.residential, "2026-11", None)

    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "value"


def test_only_the_books_reader_records_its_readings(meters: Meters, area: Area, role_users: dict[Role, int]) -> None:
    meters.give(area.book_id, None)

    assert meters.read(area.residential, "2026-11", 10.0).status_code == 403
    assert meters.read(area.residential, "2026-11", 10.0, role=Role.dispatcher).status_code == 403
    assert meters.read(area.residential, "2026-11", 10.0, role=Role.admin).status_code == 201


def test_a_customer_outside_every_book_cannot_be_read(meters: Meters, area: Area) -> None:
    stray = meters.customer(area.transformer_id)  # connected after the last rebuild

    refused = meters.read(stray, "2026-11", 10.0)

    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "customer_id"


def test_a_month_that_has_not_begun_cannot_be_read(meters: Meters, area: Area) -> None:
    refused = meters.read(area.residential, "2026-12", 10.0)

    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "period"
