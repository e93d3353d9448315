"""The map console's front-end packages (api/console: MapLibre GL JS) from the npm registry.

`npm ci` installs exactly what package-lock.json pins, and only when the lock file changed since the
last install (its hash is kept in node_modules): a second `./gw` run, also offline, does nothing."""

from __future__ import annotations

import hashlib
import shutil

from devstack.console import GwError, ok
from devstack.layout import Layout
from devstack.processes import run_logged

STAMP = ".gw-package-lock.sha256"


def lock_hash(layout: Layout) -> str:
    return hashlib.sha256((layout.console / "package-lock.json").read_bytes()).hexdigest()


def current(layout: Layout) -> bool:
    """Whether node_modules holds what the lock file pins (installed by `ensure` from this very file)."""
    stamp = layout.console / "node_modules" / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == lock_hash(layout)


def ensure(layout: Layout) -> None:
    """Install the console's packages when the lock file changed (log: .gw/log/npm.log)."""
    if current(layout):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise GwError("npm is not installed (./gw installs Debian's nodejs and npm; run ./gw again)")
    run_logged([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(layout.console)],
               log=layout.log / "npm.log", what="installing the console's npm packages (npm ci)")
    (layout.console / "node_modules" / STAMP).write_text(lock_hash(layout) + "\n", encoding="utf-8")
    ok("npm", "console packages installed (api/console/node_modules)")
