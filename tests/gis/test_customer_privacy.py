"""Phone masking has two implementations, Python for single records and a database function for
lists PostgreSQL writes; a customer must see the same masked number in both."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from gis.customers.privacy import SQL_MASK_PHONE, mask_phone

NUMBERS = ["+49 30 5551234", "13800138000", "(021) 6888-1234", "123456", "1234567", "12", "7", "+86-10-1234",
           "0 0 0 0 0 0 0 0", ""]


@pytest.mark.parametrize("phone", NUMBERS)
def test_the_database_masks_a_phone_number_exactly_as_the_application_does(app_engine: Engine, phone: str) -> None:
    with app_engine.connect() as conn:
        in_database = conn.execute(text(f"SELECT {SQL_MASK_PHONE}(:phone)"), {"phone": phone}).scalar_one()

    assert in_database == mask_phone(phone)


def test_no_phone_stays_no_phone_in_the_database(app_engine: Engine) -> None:
    with app_engine.connect() as conn:
        assert conn.execute(text(f"SELECT {SQL_MASK_PHONE}(NULL)")).scalar_one() is None
