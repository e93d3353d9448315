"""Who may attach photos to a record and who may see them: the linked record's own rules, asked
through its domain's `LinkProvider` (`media.links`). Every evidence operation goes through here.

An evidence whose record has not arrived yet (a device pushed the photo first) has nobody's rule to
ask: until the record arrives only its uploader and administrators see it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.context import Actor
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.permissions import Role
from media.links import LinkedRecord, LinkProvider, providers
from media.models import Evidence


def provider_for(kind: str) -> LinkProvider:
    found = providers().get(kind)
    if found is None:
        raise InvalidInput(f"Evidence cannot be linked to a {kind!r}.",
                           errors=[{"field": "link.kind", "message": f"one of {sorted(providers())}"}])
    return found


def normalised_ref(provider: LinkProvider, ref: str) -> str:
    try:
        return provider.normalise_ref(ref)
    except ValueError as exc:
        expected = "a uuid" if provider.deferred else "a record id"
        raise InvalidInput(f"{ref!r} is not a reference to a {provider.kind}: {expected} is expected.",
                           errors=[{"field": "link.ref", "message": f"{expected} is expected"}]) from exc


def record_to_attach(*, db: Session, actor: Actor, kind: str, ref: str) -> tuple[str, LinkedRecord | None]:
    """The canonical reference and the record `actor` attaches a photo to (None: a device's record
    that has not arrived yet; its rights are checked when it does). 404 for a missing record of a
    kind that cannot arrive later, 403 when the actor may not attach to it."""
    provider = provider_for(kind)
    canonical = normalised_ref(provider, ref)
    record = provider.find(db=db, ref=canonical)
    if record is None:
        if provider.deferred:
            return canonical, None
        raise NotFound(f"No {kind} {canonical}.")
    if not provider.may_attach(db=db, actor=actor, record=record):
        raise PermissionDenied(f"You may not attach photos to {kind} {canonical}.")
    return canonical, record


def _viewable_ref(*, db: Session, actor: Actor, kind: str, ref: str) -> tuple[str, bool]:
    """The canonical reference, and whether the record exists and `actor` may see its photos."""
    provider = provider_for(kind)
    canonical = normalised_ref(provider, ref)
    record = provider.find(db=db, ref=canonical)
    return canonical, record is not None and provider.may_view(db=db, actor=actor, record=record)


def may_view_record(*, db: Session, actor: Actor, kind: str, ref: str) -> bool:
    """May `actor` see the photos of this record (False also when there is no such record)."""
    return _viewable_ref(db=db, actor=actor, kind=kind, ref=ref)[1]


def may_view(*, db: Session, actor: Actor, evidence: Evidence) -> bool:
    if actor.role is Role.admin or (actor.user_id is not None and evidence.uploaded_by_id == actor.user_id):
        return True
    if evidence.record_id is None:
        return False
    return may_view_record(db=db, actor=actor, kind=evidence.link_kind, ref=evidence.link_ref)


def viewable_evidence(*, db: Session, actor: Actor, evidence_id: int, for_update: bool = False) -> Evidence:
    """The evidence if `actor` may see it; 404 otherwise (whether it exists is not disclosed)."""
    evidence = db.get(Evidence, evidence_id, with_for_update=for_update)
    if evidence is None or not may_view(db=db, actor=actor, evidence=evidence):
        raise NotFound(f"No evidence {evidence_id}.")
    return evidence


def require_view_record(*, db: Session, actor: Actor, kind: str, ref: str) -> str:
    """The canonical reference of a record whose photos `actor` may see; 404 otherwise."""
    canonical, viewable = _viewable_ref(db=db, actor=actor, kind=kind, ref=ref)
    if not viewable:
        raise NotFound(f"No {kind} {canonical}.")
    return canonical
