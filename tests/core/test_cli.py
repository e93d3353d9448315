"""The command line behind `./gw` (`python -m gridwarden.cli`): core's commands and those each
installed domain adds, run as an operator runs them, against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs import gw

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RULE_SET = ROOT / "gis" / "data" / "rule_sets" / "us-osha-2010.1.json"


def test_help_lists_core_commands_and_every_domains_commands() -> None:
    result = gw("--help")

    assert result.returncode == 0
    for command in ("migrate", "storage-init", "seed-demo", "user", "import", "zones", "rule-sets"):
        assert command in result.stdout


@pytest.mark.usefixtures("owner_engine")  # starts from empty data tables
@pytest.mark.parametrize("command", ["rule-sets", "rules"], ids=["rule-sets", "old-name-rules"])
def test_loading_a_shipped_rule_set_again_changes_nothing(command: str) -> None:
    result = gw(command, "load", str(SHIPPED_RULE_SET))

    assert result.returncode == 0, result.stderr
    assert "already loaded, unchanged" in result.stdout


@pytest.mark.usefixtures("owner_engine")  # starts from empty data tables
def test_zones_rebuild_reports_the_parts_it_built() -> None:
    result = gw("zones", "rebuild")

    assert result.returncode == 0, result.stderr
    assert "0 derived zone parts rebuilt" in result.stdout


def test_an_unknown_command_is_refused_with_usage() -> None:
    result = gw("frobnicate")

    assert result.returncode == 2 and "invalid choice" in result.stderr
