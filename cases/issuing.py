"""Issuing decision documents: a continuous serial number, the PDF, its storage and its record.

The serial is taken under a row lock in the deciding transaction and the PDF is written to S3
before the transaction commits; if storage is down the whole decision fails with 503 and nothing
(no state change, no serial) is kept, so the officer can simply retry.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, tzinfo
from typing import Any, cast

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from cases.documents import DecisionDocument, FindingRow, render_decision_pdf
from cases.documents.photos import PHOTO_LIMIT, DocumentPhoto
from cases.documents.render import Outcome, Verdict
from cases.models import Case, DecisionDocumentRecord, SerialCounter
from core.errors import NotFound
from core.storage import ObjectStorage
from core.users.models import User
from media.models import EvidenceState
from media.summaries import case_photos

SERIES = {"hazard_notice": "HN", "approval_with_clauses": "AP", "refusal": "RF"}

# What the site map draws: the lines around the site (indexed geography search), their zones, and
# the manual zones there.
_NEARBY = text("""
WITH site AS (SELECT ST_GeomFromGeoJSON(:site)::geography AS g),
near_lines AS (
    SELECT l.id, l.geom FROM lines l, site
     WHERE l.deleted_at IS NULL AND ST_DWithin(l.geom::geography, site.g, :radius_m)
)
SELECT 'zone' AS what, ST_AsGeoJSON(z.geom) AS g FROM line_zones z JOIN near_lines n ON n.id = z.line_id
UNION ALL
SELECT 'zone', ST_AsGeoJSON(m.geom) FROM manual_zones m, site
 WHERE m.deleted_at IS NULL AND ST_DWithin(m.geom::geography, site.g, :radius_m)
UNION ALL
SELECT 'line', ST_AsGeoJSON(n.geom) FROM near_lines n
""")
MAP_RADIUS_M = 150.0


def next_serial(db: Session, series: str, year: int) -> str:
    """The next number of `series` in `year` ("GW-HN-2026-000017"), gap-free: the counter row is
    locked until the transaction ends, and a rollback returns the number."""
    db.execute(insert(SerialCounter).values(series=series, year=year, last_value=0)
               .on_conflict_do_nothing(index_elements=["series", "year"]))
    counter = db.scalars(select(SerialCounter).where(SerialCounter.series == series, SerialCounter.year == year)
                         .with_for_update()).one()
    counter.last_value += 1
    return f"GW-{series}-{year}-{counter.last_value:06d}"


def _nearby(db: Session, site: BaseGeometry) -> tuple[list[BaseGeometry], list[BaseGeometry]]:
    zones: list[BaseGeometry] = []
    lines: list[BaseGeometry] = []
    site_json = json.dumps(site.__geo_interface__)
    for what, geojson in db.execute(_NEARBY, {"site": site_json, "radius_m": MAP_RADIUS_M}):
        (zones if what == "zone" else lines).append(shape(json.loads(geojson)))
    return zones, lines


def _finding_rows(findings: list[dict[str, Any]], language: str) -> list[FindingRow]:
    """The stored screening findings as table rows, with rule titles in the document's language.

    A finding stored since the rule sets name clauses carries the rule's `clause` key (the clause the
    document prints) and, for a clearance weighed horizontally and vertically, which distance
    governed; older findings have neither and print as they always did."""
    rows = []
    for finding in findings:
        asset, rule = finding["asset"], finding["rule"]
        label = f"{asset['layer']} {asset['external_id']}"
        if asset.get("nominal_kv"):
            label += f" ({asset['nominal_kv']:g} kV {asset.get('construction') or ''}".rstrip() + ")"
        title = (rule.get("title_zh") if language == "zh" else None) or rule["title"]
        rows.append(FindingRow(asset=label, rule=str(title), legal_source=str(rule["source"]),
                               required_m=float(finding["required_m"]), measured_m=float(finding["measured_m"]),
                               shortfall_m=float(finding["shortfall_m"]), outcome=cast(Outcome, finding["outcome"]),
                               clause=rule.get("clause"), governing=rule.get("governing")))
    return rows


def _document_photos(*, db: Session, storage: ObjectStorage, case_id: int, zone: tzinfo
                     ) -> tuple[list[DocumentPhoto], int]:
    """The case's first `PHOTO_LIMIT` photos as printed (thumbnails read from S3, capture times in
    the utility's time zone) and how many more it has. Storage down raises ServiceUnavailable, so
    the decision fails as a whole like any other storage fault; a thumbnail missing from the
    bucket is printed as "not available" rather than blocking the decision on a derived image."""
    photos = case_photos(db=db, case_id=case_id)
    printed = []
    for photo in photos[:PHOTO_LIMIT]:
        thumbnail = None
        if photo.thumb_key is not None:
            try:
                thumbnail = storage.get_bytes(bucket=storage.settings.evidence_bucket, key=photo.thumb_key)
            except NotFound:
                thumbnail = None
        suspicious = photo.state == EvidenceState.suspicious
        printed.append(DocumentPhoto(
            thumbnail=thumbnail, captured_at=photo.captured_at.astimezone(zone) if photo.captured_at else None,
            distance_m=photo.distance_m, device_position=photo.position_source == "device",
            suspicious_reasons=tuple((str(r.get("code", "")), str(r.get("message", ""))) for r in photo.reasons
                                     if r.get("code") != "position") if suspicious else ()))
    return printed, len(photos) - len(printed)


def issue_document(*, db: Session, storage: ObjectStorage, case: Case, kind: str, language: str, site: BaseGeometry,
                   findings: list[dict[str, Any]], measures: list[str], rule_set_label: str, signer: User,
                   signed_on: date, zone: tzinfo, issuer: str) -> DecisionDocumentRecord:
    """Number, render, store and record one decision document; `zone` is the utility's time zone,
    in which the photos' capture times are printed."""
    # The thumbnails are read before the serial is taken: the counter row stays locked until commit,
    # and other officers' decisions wait on it.
    photos, photos_left_out = _document_photos(db=db, storage=storage, case_id=case.id, zone=zone)
    serial = next_serial(db, SERIES[kind], signed_on.year)
    zones, lines = _nearby(db, site)
    document = DecisionDocument(
        kind=kind, language=language, serial_number=serial, request_number=case.number,  # type: ignore[arg-type]
        applicant=case.applicant_name, site_address=case.site_address or "-", request_type=case.request_type,
        verdict=cast(Verdict, case.verdict or "clear"), rule_set=rule_set_label, findings=_finding_rows(findings, language),
        measures=measures, site=site, zones=zones, lines=lines, signed_by=signer.full_name or signer.username,
        signed_on=signed_on, organisation=issuer, photos=photos, photos_left_out=photos_left_out)
    pdf = render_decision_pdf(document)
    # The case id and a random suffix keep keys unique even if a restored database hands out a
    # serial again: an issued document is evidence and is never overwritten.
    key = f"decisions/{signed_on.year}/{serial}-case{case.id}-{uuid.uuid4().hex[:12]}.pdf"
    digest = storage.put_bytes(bucket=storage.settings.evidence_bucket, key=key, data=pdf,
                               content_type="application/pdf")
    record = DecisionDocumentRecord(case_id=case.id, kind=kind, serial_number=serial, language=language,
                                    object_key=key, sha256=digest, size_bytes=len(pdf),
                                    signed_by=document.signed_by, signed_on=signed_on)
    db.add(record)
    db.flush()
    return record
