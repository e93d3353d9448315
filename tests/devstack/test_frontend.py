"""The console's npm packages: `./gw` runs `npm ci` only when package-lock.json changed since the last
install, so a second run (also offline) does nothing."""

from __future__ import annotations

from pathlib import Path

from devstack import frontend
from devstack.layout import Layout

ROOT = Path(__file__).resolve().parents[2]


def test_this_checkouts_packages_match_its_lock_file_after_set_up() -> None:
    """`./gw test` set up this checkout: node_modules holds what the committed lock file pins."""
    layout = Layout(ROOT)

    assert frontend.current(layout)
    assert (layout.console / "node_modules" / "maplibre-gl" / "dist" / "maplibre-gl.js").is_file()


def test_a_changed_lock_file_asks_for_a_new_install_and_an_unchanged_one_does_not(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    (layout.console / "node_modules").mkdir(parents=True)
    lock = layout.console / "package-lock.json"
    lock.write_text('{"lockfileVersion": 3, "packages": {}}\n', encoding="utf-8")
    assert not frontend.current(layout), "never installed"

    (layout.console / "node_modules" / frontend.STAMP).write_text(frontend.lock_hash(layout) + "\n", encoding="utf-8")
    assert frontend.current(layout)
    frontend.ensure(layout)  # a no-op: npm would fail here, with no package.json to install from

    lock.write_text('{"lockfileVersion": 3, "packages": {"node_modules/x": {}}}\n', encoding="utf-8")
    assert not frontend.current(layout)
