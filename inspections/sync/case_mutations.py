"""Pushed items that become cases: encroachment reports found on patrol."""

from __future__ import annotations

from cases import use_cases as case_use_cases
from cases.schemas import EncroachmentIn
from inspections.sync.mutations import Change, ItemContext, parse

WGS84 = 4326


def encroachment_report(ctx: ItemContext) -> Change:
    """Construction found in a protection zone becomes a screened case (`cases.use_cases`); the
    item's uuid is the case's idempotency key, so a case is registered once however often it is pushed."""
    report = parse(EncroachmentIn, ctx)
    submitted = case_use_cases.report_encroachment(db=ctx.db, actor=ctx.actor, settings=ctx.settings, report=report,
                                                   epsg=WGS84, now=ctx.now, idempotency_key=str(ctx.uuid))
    return Change(entity_type="case", entity_id=submitted.value.id, version=submitted.value.version)
