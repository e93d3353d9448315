"""Photos attached to a case (a site survey's, a re-inspection's, an encroachment's evidence).

A case is created at the desk, so it always exists before its photos: the reference is its id.
Who attaches: whoever works the case (its owner, assignee, deciders: `cases.privacy`), the
inspector of one of its site visits, and the desk roles that handle cases. Who sees: whoever may
read the case (every role may; personal data is not in a photo's record).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cases.models import Case, CaseEvent, SiteVisit
from cases.permissions import CASES_ASSIGN, CASES_DECIDE, CASES_READ
from cases.privacy import parts_in_case
from core.context import Actor
from core.permissions import has_permission
from media.link_refs import id_ref
from media.links import LinkedRecord


class CaseLink:
    kind = "case"
    deferred = False

    def normalise_ref(self, ref: str) -> str:
        return id_ref(ref)

    def find(self, *, db: Session, ref: str) -> LinkedRecord | None:
        # A site footprint, where one was drawn, is what the photo must be near; else the location.
        row = db.execute(select(Case.id, func.ST_AsText(func.coalesce(Case.footprint, Case.location)))
                         .where(Case.id == int(ref))).one_or_none()
        if row is None:
            return None
        return LinkedRecord(kind=self.kind, ref=ref, record_id=row[0], geometry_wkt=row[1], entity_type="case")

    def may_attach(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        if has_permission(actor.role, CASES_ASSIGN) or has_permission(actor.role, CASES_DECIDE):
            return True
        case = db.get(Case, record.record_id)
        if case is None or actor.user_id is None:
            return False
        events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        if parts_in_case(user_id=actor.user_id, case=case, events=events):
            return True
        visit = select(SiteVisit.id).where(SiteVisit.case_id == case.id,
                                           or_(SiteVisit.assigned_to_id == actor.user_id,
                                               SiteVisit.visited_by_id == actor.user_id))
        return db.scalar(visit.limit(1)) is not None

    def may_view(self, *, db: Session, actor: Actor, record: LinkedRecord) -> bool:
        return has_permission(actor.role, CASES_READ)


CASE_LINK = CaseLink()
