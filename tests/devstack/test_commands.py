"""`./gw` against the services it runs for this checkout (the ones this suite uses)."""

from __future__ import annotations

import os
import subprocess
import time

from tests.ops.services import REPO_ROOT, local_services, read_env_file

# `status` starts nothing and migrates nothing: it answers at once.
STATUS_BUDGET_S = 10


def gw(*args: str) -> subprocess.CompletedProcess[str]:
    """./gw as a developer runs it: no GW_* variable (those of this test run would mean external services)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GW_")}
    return subprocess.run([str(REPO_ROOT / "gw"), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_status_reports_each_running_service_with_its_recorded_port_and_pid() -> None:
    ports = read_env_file(REPO_ROOT / ".gw" / "ports.env")
    services = local_services()
    started = time.monotonic()

    status = gw("status")

    assert status.returncode == 0, status.stderr
    assert time.monotonic() - started < STATUS_BUDGET_S
    lines = dict(line.split(": ", 1) for line in status.stdout.splitlines())
    assert lines["postgres"] == f"running on 127.0.0.1:{ports['GW_PG_PORT']} (pid {services['postgres'].pid})"
    assert lines["redis"] == f"running on 127.0.0.1:{ports['GW_REDIS_PORT']} (pid {services['redis'].pid})"
    assert lines["s3"].startswith(f"running on 127.0.0.1:{ports['GW_S3_PORT']} "
                                  f"(SeaweedFS pid {services['seaweedfs'].pid}; master {ports['GW_S3_MASTER_PORT']}")
    assert lines["env"] == ".gw/env"


def test_an_unknown_option_prints_the_usage_and_fails() -> None:
    answered = gw("--frobnicate")

    assert answered.returncode == 2
    assert "usage: ./gw <command> [args]" in answered.stderr
