"""Background processes started by `./gw`: pid files, liveness, stopping, waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from devstack.console import fail, ok, say, warn
from devstack.layout import running_as_root

POLL_S = 0.1
KILL_WAIT_S = 5


def pid_alive(pid_file: Path, name: str) -> int | None:
    """The pid in `pid_file` if that process is alive and its command line mentions `name` (a pid file
    outlives its process, and the pid may since belong to another program)."""
    try:
        pid = int(pid_file.read_text(encoding="utf-8").split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if name.encode() in cmdline else None


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie. A child of this process that has ended stays a zombie until
    it is reaped, and still takes signals, so `os.kill(pid, 0)` would call it alive (a pool started
    by a long-lived caller, the tests, would then wait out every grace period)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # the state follows the command name in parentheses


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:  # it ended on its own meanwhile
        pass


def wait_until(condition: Callable[[], bool], *, seconds: float, interval: float = POLL_S) -> bool:
    """Poll `condition` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop(pid_file: Path, name: str, label: str, *, timeout_s: float, slow: bool = False) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`. `slow`: the kill is routine, not worth a warning
    (SeaweedFS's graceful gRPC drain always takes ~15 s; its stores are written through)."""
    pid = pid_alive(pid_file, name)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        say(label, "not running")
        return
    _signal(pid, signal.SIGTERM)
    note = ""
    if not wait_until(lambda: not _alive(pid), seconds=timeout_s):
        if slow:
            note = f", killed after {timeout_s:g}s grace"
        else:
            warn(label, f"did not stop in {timeout_s:g}s, killing pid {pid}")
        _signal(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), seconds=KILL_WAIT_S)
    pid_file.unlink(missing_ok=True)
    ok(label, f"stopped (pid {pid}{note})")


def kill_group(pid_file: Path, name: str, *, timeout_s: float) -> None:
    """SIGKILL the process `pid_file` names and its process group at once (a crash, an OOM kill, a lost
    host: what the fault tests do to a worker or an API process), and wait until it is gone."""
    pid = pid_alive(pid_file, name)
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: pid_alive(pid_file, name) is None, seconds=timeout_s)


def stop_together(pids: Iterable[int], *, timeout_s: float) -> bool:
    """SIGTERM every process at once, SIGKILL what is left after `timeout_s`: one grace period for a
    group, not one each. True when all ended within the grace period."""
    pids = list(pids)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    if wait_until(lambda: not any(_alive(pid) for pid in pids), seconds=timeout_s):
        return True
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    wait_until(lambda: not any(_alive(pid) for pid in pids), seconds=KILL_WAIT_S)
    return False


def log_size(log: Path) -> int:
    return log.stat().st_size if log.is_file() else 0


def bind_failed(log: Path, since: int) -> bool:
    """The program logged, after byte `since` of `log`, that its port was taken (PostgreSQL, Redis and
    SeaweedFS all say "Address already in use")."""
    if not log.is_file():
        return False
    with log.open("rb") as handle:
        handle.seek(since)
        return b"address already in use" in handle.read().lower()


def as_postgres(command: Sequence[str]) -> list[str]:
    """PostgreSQL's programs refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if running_as_root() else list(command)


def run_logged(command: Sequence[str], *, log: Path, what: str, append: bool = False,
               env: dict[str, str] | None = None) -> None:
    """Run `command` with its output in `log`; on failure show the log's tail and stop."""
    with log.open("a" if append else "w", encoding="utf-8") as out:
        done = subprocess.run(list(command), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                              env=env, check=False)
    if done.returncode != 0:
        raise fail(f"{what} failed", log=log, lines=40)
