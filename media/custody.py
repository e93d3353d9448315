"""The custody chain of a record's photos: each accepted evidence (verified or suspicious) is one
entry whose hash covers the previous entry's hash, its own SHA-256 and its metadata, so changing,
reordering or removing an entry afterwards shows in `verify_chain` (issue 11, §3).

Why a transaction-scoped advisory lock on (link kind, link ref): two workers accepting photos of the
same record at once must not both take the same `seq`; the lock serialises them for that record only
and is released by the commit. A deletion keeps the row and its chain fields (a tombstone), so a
record's chain still verifies after an administrator or the retention policy removed the bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.context import Actor
from core.users.models import User
from media.access import require_view_record
from media.models import Evidence
from media.schemas import BrokenLinkOut, ChainCheckOut, ChainLinkOut

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class BrokenLink:
    seq: int | None
    evidence_id: int
    reason: str  # "hash" | "previous" | "sequence"


@dataclass(frozen=True)
class ChainCheck:
    kind: str
    ref: str
    entries: int
    first_broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _metadata(evidence: Evidence, *, seq: int, uploader: str | None, device_lonlat: tuple[float, float] | None
              ) -> dict[str, Any]:
    """What an entry vouches for besides the bytes' SHA-256 (the contract's list)."""
    return {"seq": seq, "link_kind": evidence.link_kind, "link_ref": evidence.link_ref,
            "file_name": evidence.file_name, "size": evidence.size, "detected_type": evidence.detected_type,
            "exif": evidence.exif, "device_captured_at": _iso(evidence.device_captured_at),
            "device_position": list(device_lonlat) if device_lonlat else None,
            "device_accuracy_m": evidence.device_accuracy_m, "uploaded_by": uploader,
            "created_at": _iso(evidence.created_at), "verified_at": _iso(evidence.verified_at)}


def entry_hash(*, prev_hash: str, sha256: str, metadata: dict[str, Any]) -> str:
    canonical = json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + sha256 + canonical).encode()).hexdigest()


def _with_details(db: Session, *where: ColumnElement[bool]) -> list[tuple[Evidence, str | None,
                                                                          tuple[float, float] | None]]:
    """Evidence with its uploader's username and its device position as stored (what the hash
    covers), in chain order, in one query."""
    rows = db.execute(select(Evidence, User.username, func.ST_X(Evidence.device_position),
                             func.ST_Y(Evidence.device_position))
                      .outerjoin(User, User.id == Evidence.uploaded_by_id).where(*where)
                      .order_by(Evidence.chain_seq, Evidence.id)).all()
    return [(row[0], row[1], (row[2], row[3]) if row[2] is not None else None) for row in rows]


def _lock(db: Session, kind: str, ref: str) -> None:
    db.execute(select(func.pg_advisory_xact_lock(func.hashtext(kind), func.hashtext(ref))))


def append(*, db: Session, evidence: Evidence) -> None:
    """Give an accepted evidence its entry (its `verified_at` and measured facts must be set)."""
    if evidence.chain_seq is not None:
        return
    _lock(db, evidence.link_kind, evidence.link_ref)
    last = db.execute(select(Evidence.chain_seq, Evidence.chain_hash)
                      .where(Evidence.link_kind == evidence.link_kind, Evidence.link_ref == evidence.link_ref,
                             Evidence.chain_seq.is_not(None))
                      .order_by(Evidence.chain_seq.desc()).limit(1)).one_or_none()
    seq, prev_hash = ((last[0] or 0) + 1, str(last[1])) if last else (1, GENESIS_HASH)
    db.flush()
    ((_, uploader, position),) = _with_details(db, Evidence.id == evidence.id)
    evidence.chain_seq = seq
    evidence.chain_prev_hash = prev_hash
    evidence.chain_hash = entry_hash(prev_hash=prev_hash, sha256=evidence.sha256 or "",
                                     metadata=_metadata(evidence, seq=seq, uploader=uploader, device_lonlat=position))
    db.flush()


def verify_chain(*, db: Session, kind: str, ref: str) -> ChainCheck:
    """Recompute every entry of a record's chain in seq order; the first broken link is named."""
    rows = _with_details(db, Evidence.link_kind == kind, Evidence.link_ref == ref, Evidence.chain_seq.is_not(None))
    previous = GENESIS_HASH
    for expected_seq, (evidence, uploader, position) in enumerate(rows, start=1):
        seq = evidence.chain_seq or 0
        recomputed = entry_hash(prev_hash=evidence.chain_prev_hash or "", sha256=evidence.sha256 or "",
                                metadata=_metadata(evidence, seq=seq, uploader=uploader, device_lonlat=position))
        reason = ("sequence" if seq != expected_seq else "previous" if evidence.chain_prev_hash != previous
                  else "hash" if recomputed != evidence.chain_hash else None)
        if reason:
            return ChainCheck(kind=kind, ref=ref, entries=len(rows),
                              first_broken=BrokenLink(seq=evidence.chain_seq, evidence_id=evidence.id, reason=reason))
        previous = evidence.chain_hash or ""
    return ChainCheck(kind=kind, ref=ref, entries=len(rows), first_broken=None)


def check_record_chain(*, db: Session, actor: Actor, kind: str, ref: str) -> ChainCheckOut:
    """The chain check a reader asks for: only of a record whose photos the reader may see (404 else)."""
    canonical = require_view_record(db=db, actor=actor, kind=kind, ref=ref)
    check = verify_chain(db=db, kind=kind, ref=canonical)
    broken = check.first_broken
    return ChainCheckOut(link=ChainLinkOut(kind=check.kind, ref=check.ref), entries=check.entries, intact=check.intact,
                         first_broken=BrokenLinkOut(seq=broken.seq, evidence_id=broken.evidence_id,
                                                    reason=broken.reason) if broken else None)
