"""Screening as its callers use it: one function per operation (screen one geometry, screen a batch,
read a stored screening), each running the whole sequence (Idempotency-Key replay, rule set,
validation, evaluation and storage, the answer's shape), so that the router only translates to
HTTP and the cases domain reuses the same steps (`prepare`) for the sites it screens.

Keyword-only functions, no HTTP; the caller's unit of work owns the transaction. The statements a
screening runs are those of `service.run` plus one rule-set look-up, as before this module existed
(`./gw bench screening` measures them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shapely.geometry import mapping
from sqlalchemy.orm import Session

from core.context import Actor
from core.fingerprint import Submitted, request_fingerprint
from gis.rule_sets import service as rule_set_service
from gis.rule_sets.service import LoadedRuleSet
from gis.screening import service
from gis.screening.schemas import ScreeningBatchIn, ScreeningIn, ScreeningOut, screening_out
from gis.screening.settings import ScreeningSettings


@dataclass(frozen=True)
class Prepared:
    """Validated inputs and the rule set they were checked against, looked up once and used again
    to evaluate them (a rule set names the activities it covers, so validation needs it too)."""

    rule_set: LoadedRuleSet
    items: list[service.ScreeningInput]


def prepare(*, db: Session, raws: Sequence[service.RawScreening], epsg: int, limits: ScreeningSettings,
            reference: str | None = None, on: date | None = None, batch: bool = False) -> Prepared:
    """The rule set asked for (`reference`, in force `on`; the default when None) and every input
    validated against it; nothing is stored, and any problem is one 422 naming every item."""
    rule_set = rule_set_service.get_rule_set(db=db, reference=reference, on=on)
    items = service.validate_all(raws=raws, epsg=epsg, rule_set=rule_set, limits=limits, batch=batch)
    return Prepared(rule_set=rule_set, items=items)


def screen(*, db: Session, actor: Actor, body: ScreeningIn, epsg: int, limits: ScreeningSettings,
           idempotency_key: str | None = None) -> Submitted[ScreeningOut]:
    """Screen one geometry and store the result; a replayed Idempotency-Key answers with the
    screening it stored the first time (`created` False) instead of screening again."""
    fingerprint = request_fingerprint(operation="screening", epsg=epsg, body=body)
    if idempotency_key and (earlier := service.previous_submission(db=db, actor=actor, idempotency_key=idempotency_key,
                                                                    fingerprint=fingerprint)):
        return Submitted(get_screening_out(db=db, screening_id=earlier[0].id), created=False)
    prepared = prepare(db=db, raws=[body.raw()], epsg=epsg, limits=limits, reference=body.rule_set, on=body.on_date)
    row = service.run(db=db, actor=actor, items=prepared.items, rule_set=prepared.rule_set, epsg=epsg, limits=limits,
                      on_date=body.on_date, idempotency_key=idempotency_key, idempotency_fingerprint=fingerprint)[0]
    return Submitted(screening_out(row, prepared.rule_set, mapping(prepared.items[0].geometry)), created=True)


def screen_batch(*, db: Session, actor: Actor, body: ScreeningBatchIn, epsg: int, limits: ScreeningSettings,
                 idempotency_key: str | None = None) -> Submitted[list[ScreeningOut]]:
    """Screen every item of a batch (all validated first; none stored on error), in input order; a
    replayed Idempotency-Key answers with the batch stored the first time."""
    fingerprint = request_fingerprint(operation="screening.batch", epsg=epsg, body=body)
    if idempotency_key and (earlier := service.previous_submission(db=db, actor=actor, idempotency_key=idempotency_key,
                                                                    fingerprint=fingerprint)):
        rule_set = rule_set_service.get_rule_set_by_id(db=db, rule_set_id=earlier[0].rule_set_id)
        return Submitted([screening_out(row, rule_set) for row in earlier], created=False)
    prepared = prepare(db=db, raws=[item.raw() for item in body.items], epsg=epsg, limits=limits,
                       reference=body.rule_set, on=body.on_date, batch=True)
    rows = service.run(db=db, actor=actor, items=prepared.items, rule_set=prepared.rule_set, epsg=epsg, limits=limits,
                       on_date=body.on_date, batch=True, idempotency_key=idempotency_key,
                       idempotency_fingerprint=fingerprint)
    return Submitted([screening_out(row, prepared.rule_set) for row in rows], created=True)


def get_screening_out(*, db: Session, screening_id: int) -> ScreeningOut:
    """A stored screening as it was made, with the rule set version it used and its geometry."""
    row, geometry = service.get_screening(db=db, screening_id=screening_id)
    return screening_out(row, rule_set_service.get_rule_set_by_id(db=db, rule_set_id=row.rule_set_id), geometry)
