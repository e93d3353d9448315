"""Routers translate HTTP and nothing more: they never read the clock themselves (the time comes
from `api.dependencies.Now`, which tests can set), so a deadline computed for a request is the
one the test chose."""

from __future__ import annotations

import ast
from pathlib import Path

import api.routers

ROUTERS = Path(api.routers.__file__).parent
# Calls that read the wall clock: `datetime.now()`, `datetime.utcnow()`, `datetime.today()`, `date.today()`,
# `time.time()`.
CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time")}


def clock_reads(source: str) -> list[str]:
    """`owner.attribute` of every clock-reading call in `source`, by line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in CLOCK_READS:
                found.append(f"line {node.lineno}: {name}.{node.func.attr}()")
    return found


def test_the_check_sees_a_clock_read_however_it_is_spelled() -> None:
    assert clock_reads("from datetime import datetime, UTC\nx = datetime.now(UTC)\n") == ["line 2: datetime.now()"]
    assert clock_reads("import datetime\nx = datetime.datetime.now()\n") == ["line 2: datetime.now()"]
    assert clock_reads("import time\nx = time.time()\n") == ["line 2: time.time()"]
    assert clock_reads("from datetime import date\nx = date.today()\n") == ["line 2: date.today()"]
    assert clock_reads("x = now\n") == []


def test_no_router_reads_the_clock() -> None:
    modules = sorted(ROUTERS.glob("*.py"))
    assert modules, ROUTERS

    reads = {module.name: found for module in modules if (found := clock_reads(module.read_text(encoding="utf-8")))}

    assert reads == {}
