"""What `./gw` prints: `label: message` lines, coloured on a terminal; errors end the command."""

from __future__ import annotations

import sys
from pathlib import Path

_quiet = False


class GwError(Exception):
    """A step failed; `commands.main` prints it as `gw: error: ...` and exits 1."""


def _style(code: str) -> str:
    return f"\033[{code}m" if sys.stdout.isatty() else ""


def set_quiet(quiet: bool) -> None:
    """Pass-through commands (`./gw user ...`) print only warnings and errors of the set-up."""
    global _quiet
    _quiet = quiet


def say(label: str, message: str) -> None:
    if not _quiet:
        print(f"{_style('1')}{label}:{_style('0')} {message}", flush=True)


def ok(label: str, message: str) -> None:
    if not _quiet:
        print(f"{_style('1')}{label}:{_style('0')} {_style('32')}{message}{_style('0')}", flush=True)


def warn(label: str, message: str) -> None:
    print(f"{label}: {message}", file=sys.stderr, flush=True)


def fail(message: str, *, log: Path | None = None, lines: int = 30) -> GwError:
    """The error to raise, after showing the last lines of `log` (where the failing program wrote)."""
    if log is not None and log.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        print(f"--- last lines of {log.name} ---", *tail, "---", sep="\n", file=sys.stderr)
    return GwError(message)
