"""A registration is validated against the rule set that then screens it, read once: the site's
activities are checked against what the rule set covers, and the same rule set evaluates them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.cases.conftest import FAR, Desk, connection_body, construction_body

READS_RULE_SETS = re.compile(r"\bFROM rule_sets\b", re.IGNORECASE)


@pytest.fixture
def statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the API's engine runs while the test does."""
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(app.state.engine, "before_cursor_execute", keep)


@pytest.mark.parametrize("body", [connection_body(FAR), construction_body(FAR)], ids=["connection", "construction"])
def test_registering_a_case_reads_the_rule_set_once(desk: Desk, statements: list[str], body: dict[str, Any]) -> None:
    before = len(statements)

    case = desk.register(body)

    assert case["state"] == "screened" and case["screening_ids"]
    assert len([s for s in statements[before:] if READS_RULE_SETS.search(s)]) == 1
