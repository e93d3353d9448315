"""Entry point of the command line behind `./gw`: `python -m gridwarden.cli COMMAND`.

Core's commands (migrations, buckets, demo data, users) and every installed domain's."""

from __future__ import annotations

import sys

from core.cli import main
from gridwarden.domains import installed

if __name__ == "__main__":
    sys.exit(main(installed()))
