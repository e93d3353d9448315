"""The location and time checks of a photo against its record, and the decision they lead to
(issue 11, §2). The thresholds are data with their source (`media/data/evidence_rules.json`).

A failed check makes the evidence `suspicious` with its reasons: it is kept and shown, never dropped
(a theft case's photo taken 80 m away is still evidence, just weaker). Without EXIF GPS the device's
position is used and said so (reason `position`, information only). Every outcome, accepted or
rejected, is announced (`evidence.<state>`) and audited (`evidence.verify`) in the caller's
transaction; an accepted one also gets its custody chain entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import outbox
from core.audit import service as audit_service
from core.context import Actor
from media import custody
from media.links import LinkedRecord
from media.models import Evidence, EvidenceState

RULES_PATH = Path(__file__).parent / "data" / "evidence_rules.json"
SYSTEM = Actor.system("evidence worker")


@dataclass(frozen=True)
class EvidenceRules:
    default_threshold_m: float
    threshold_m_by_task_type: dict[str, float]
    future_tolerance: timedelta
    max_age_before_upload: timedelta
    window_grace: timedelta

    def threshold_m(self, task_type: str | None) -> float:
        return self.threshold_m_by_task_type.get(task_type or "", self.default_threshold_m)


@cache
def rules() -> EvidenceRules:
    """The rules file, read once (it ships with the code)."""
    data = json.loads(RULES_PATH.read_text())
    location, time = data["location"], data["time"]
    return EvidenceRules(default_threshold_m=float(location["default_threshold_m"]),
                         threshold_m_by_task_type={k: float(v) for k, v in location["threshold_m_by_task_type"].items()},
                         future_tolerance=timedelta(minutes=time["future_tolerance_minutes"]),
                         max_age_before_upload=timedelta(days=time["max_age_before_upload_days"]),
                         window_grace=timedelta(minutes=time["task_window_grace_minutes"]))


def _reason(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def snapshot(evidence: Evidence) -> dict[str, Any]:
    """What the audit log keeps of an evidence's verification state."""
    return {"state": evidence.state, "reasons": evidence.reasons, "record_id": evidence.record_id,
            "sha256": evidence.sha256, "detected_type": evidence.detected_type,
            "position_source": evidence.position_source, "distance_m": evidence.distance_m,
            "threshold_m": evidence.threshold_m, "chain_seq": evidence.chain_seq}


def _position(db: Session, evidence: Evidence) -> tuple[str, float, float] | None:
    exif = evidence.exif or {}
    if exif.get("longitude") is not None and exif.get("latitude") is not None:
        return "exif", float(exif["longitude"]), float(exif["latitude"])
    if evidence.device_position is None:
        return None
    lon, lat = db.execute(select(func.ST_X(Evidence.device_position), func.ST_Y(Evidence.device_position))
                          .where(Evidence.id == evidence.id)).one()
    return "device", float(lon), float(lat)


def _distance_m(db: Session, wkt: str, lon: float, lat: float) -> float | None:
    """Geodesic metres from the point to the record's geometry (to a line itself, not a vertex);
    None when there is nothing to measure to (an empty geometry)."""
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    distance = db.scalar(select(func.ST_Distance(func.geography(func.ST_GeomFromText(wkt, 4326)),
                                                 func.geography(point))))
    return None if distance is None else float(distance)


def _location_reasons(db: Session, evidence: Evidence, record: LinkedRecord) -> list[dict[str, str]]:
    position = _position(db, evidence)
    if position is None:
        evidence.position_source = evidence.distance_m = None
        return [_reason("location", "no position: the photo has no GPS and the device sent none")]
    source, lon, lat = position
    threshold = rules().threshold_m(record.task_type)
    distance = _distance_m(db, record.geometry_wkt, lon, lat)
    evidence.position_source, evidence.distance_m, evidence.threshold_m = source, distance, threshold
    found = []
    if source == "device":
        found.append(_reason("position", "the photo has no GPS position: the device's position was used"))
    if distance is None:
        found.append(_reason("location", f"the {record.kind} has no place to measure the photo against"))
    elif distance > threshold:
        found.append(_reason("location", f"taken {distance:.0f} m from the {record.kind}; at most {threshold:.0f} m "
                                         "is expected"))
    return found


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def _time_reasons(evidence: Evidence, record: LinkedRecord) -> list[dict[str, str]]:
    taken = evidence.taken_at
    if taken is None:
        return [_reason("time", "no capture time: neither the photo nor the device gave one")]
    limits, uploaded = rules(), evidence.created_at
    found = []
    if taken > uploaded + limits.future_tolerance:
        found.append(_reason("time", f"captured in the future: {_hours(taken - uploaded)} after the upload began"))
    elif taken < uploaded - limits.max_age_before_upload:
        found.append(_reason("time", f"captured {(uploaded - taken).days} days before the upload (at most "
                                     f"{limits.max_age_before_upload.days} expected)"))
    if record.window is not None:
        start, end = record.window
        if taken < start - limits.window_grace:
            found.append(_reason("time", f"captured {_hours(start - taken)} before the {record.kind}'s window"))
        elif taken > end + limits.window_grace:
            found.append(_reason("time", f"captured {_hours(taken - end)} after the {record.kind}'s window"))
    return found


def announce(*, db: Session, evidence: Evidence, before: dict[str, Any]) -> None:
    """Outbox `evidence.<state>` and audit `evidence.verify` for an outcome just decided."""
    outbox.emit(db=db, event_type=f"evidence.{evidence.state}", entity_type="evidence", entity_id=evidence.id,
                payload={"state": evidence.state, "reasons": evidence.reasons, "link_kind": evidence.link_kind,
                         "link_ref": evidence.link_ref, "record_id": evidence.record_id})
    audit_service.record(db=db, actor=SYSTEM, action="evidence.verify", entity_type="evidence",
                         entity_id=evidence.id, before=before, after=snapshot(evidence))


def reject(*, db: Session, evidence: Evidence, reasons: list[dict[str, str]]) -> None:
    before = snapshot(evidence)
    evidence.state = EvidenceState.rejected
    evidence.reasons = reasons
    db.flush()
    announce(db=db, evidence=evidence, before=before)


def assess(*, db: Session, evidence: Evidence, record: LinkedRecord, now: datetime) -> None:
    """Check an inspected, linked evidence against its record and decide verified or suspicious."""
    before = snapshot(evidence)
    reasons = _location_reasons(db, evidence, record) + _time_reasons(evidence, record)
    suspicious = any(r["code"] in {"location", "time"} for r in reasons)
    evidence.state = EvidenceState.suspicious if suspicious else EvidenceState.verified
    evidence.reasons = reasons
    evidence.verified_at = now
    db.flush()
    custody.append(db=db, evidence=evidence)
    announce(db=db, evidence=evidence, before=before)
