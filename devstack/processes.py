"""Background processes started by `./gw`: pid files, liveness, stopping, waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


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
