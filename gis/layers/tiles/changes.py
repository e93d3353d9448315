"""Keeping the tile change log short.

Every write adds a box to `tile_changes`, and a tile's version counts the boxes over it, so the
look-up grows with history. Once a day the log is emptied and its epoch moved, in one transaction:
every tile's ETag changes once (each is drawn again on its next request, the Redis entries of the
old versions expire), and a version look-up scans a day's changes, not all of them. Rows a
transaction still open has added are not seen by the delete and stay: counted once they commit,
under the new epoch."""

from __future__ import annotations

from sqlalchemy import delete, func, update
from sqlalchemy.orm import Session

from gis.layers.tiles.models import TileChange, TileState


def prune_change_log(*, db: Session) -> int:
    """Empty the log and move the epoch; the number of boxes removed."""
    removed = db.execute(delete(TileChange)).rowcount  # type: ignore[attr-defined]
    db.execute(update(TileState).where(TileState.id == 1).values(epoch=func.gen_random_uuid()))
    return int(removed or 0)
