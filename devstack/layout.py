"""Where a checkout keeps its local services' state: everything under `.gw/` (git-ignored)."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

# Unix socket paths are limited to ~107 bytes (sun_path); PostgreSQL appends "/.s.PGSQL.<port>".
MAX_SOCKET_DIR_LENGTH = 80


def running_as_root() -> bool:
    return os.geteuid() == 0


def chown_to_postgres(*paths: Path) -> None:
    """As root, the server runs as `postgres` (initdb refuses root): it must own its files."""
    if running_as_root():
        for path in paths:
            shutil.chown(path, user="postgres", group="postgres")


@dataclass(frozen=True)
class Layout:
    """The paths of one checkout's stack; `root` is the checkout."""

    root: Path

    @property
    def gw(self) -> Path:
        return self.root / ".gw"

    @property
    def run(self) -> Path:
        return self.gw / "run"

    @property
    def log(self) -> Path:
        return self.gw / "log"

    @property
    def pgdata(self) -> Path:
        return self.gw / "pgdata"

    @property
    def weed_home(self) -> Path:
        """SeaweedFS's working directory: it reads ./security.toml; its TLS files live here too."""
        return self.gw / "weed"

    @property
    def console(self) -> Path:
        """The map console's front end: its npm packages are installed into node_modules here."""
        return self.root / "api" / "console"

    @property
    def venv(self) -> Path:
        return self.root / ".venv"

    @property
    def ports_file(self) -> Path:
        return self.gw / "ports.env"

    @property
    def secrets_file(self) -> Path:
        return self.gw / "secrets.env"

    @property
    def env_file(self) -> Path:
        return self.gw / "env"

    @property
    def sockdir(self) -> Path:
        """`.gw/run`, or for a deep checkout a short per-checkout directory in /tmp."""
        if len(str(self.run)) <= MAX_SOCKET_DIR_LENGTH:
            return self.run
        return Path(f"/tmp/gw-{hashlib.sha256(str(self.root).encode()).hexdigest()[:12]}")

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def prepare(self) -> None:
        """Create the directories. Others may pass through `.gw` (the postgres user must reach pgdata and
        the socket when run as root) but not list it; the files that matter are 0600, sockets 0700."""
        for directory in (self.run, self.log, self.gw / "redis", self.gw / "s3", self.weed_home, self.sockdir):
            directory.mkdir(parents=True, exist_ok=True)
        self.gw.chmod(0o711)
        self.weed_home.chmod(0o700)
        chown_to_postgres(self.sockdir)


def write_private(path: Path, text: str) -> bool:
    """Write `text` to `path` with mode 0600 (atomically: a temporary file renamed over it) unless it
    already holds exactly that; True when written. Readers never see a half-written or readable file."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        path.chmod(0o600)
        return False
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    temporary.replace(path)
    return True
