"""Loading, finding and listing rule sets. Keyword-only functions, no HTTP.

Rule sets are immutable: loading a file whose (code, version) exists is a no-op when the content is
the same and a conflict when it differs, because screenings already made must stay explainable by
the rules they used. A changed rule is shipped as a new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit import service as audit_service
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.fingerprint import json_fingerprint
from gis.rule_sets.definition import RuleSetDefinition
from gis.rule_sets.models import RuleSet


@dataclass(frozen=True)
class LoadedRuleSet:
    """A stored rule set with its parsed definition: what zones and screenings work from."""

    id: int
    definition: RuleSetDefinition

    @property
    def label(self) -> str:
        return self.definition.label


# Rows never change once stored, so their parsed form can be kept for the life of the process.
_parsed: dict[tuple[int, str], RuleSetDefinition] = {}


def parse_definition(content: dict[str, Any]) -> RuleSetDefinition:
    try:
        return RuleSetDefinition.model_validate(content)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise InvalidInput("The rule set file is not valid: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors[:5]), errors=errors) from exc


def _loaded(row: RuleSet) -> LoadedRuleSet:
    key = (row.id, row.sha256)
    if key not in _parsed:
        _parsed[key] = RuleSetDefinition.model_validate(row.definition)
    return LoadedRuleSet(id=row.id, definition=_parsed[key])


def load_rule_set(*, db: Session, actor: Actor, content: dict[str, Any]) -> tuple[RuleSet, bool]:
    """Store a rule set; returns (row, created). Same code+version with other content -> Conflict."""
    definition = parse_definition(content)
    digest = json_fingerprint(content)
    existing = db.scalar(select(RuleSet).where(RuleSet.code == definition.code,
                                               RuleSet.version == definition.version))
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(f"Rule set {definition.label} is already loaded with different content. Rule sets "
                           f"are immutable so that old screenings stay reproducible: give the file a new version.")
        return existing, False
    if definition.is_default:
        db.execute(update(RuleSet).where(RuleSet.is_default).values(is_default=False))
    row = RuleSet(code=definition.code, version=definition.version, jurisdiction=definition.jurisdiction,
                  title=definition.title, effective_date=definition.effective_date,
                  is_default=definition.is_default, definition=content, sha256=digest,
                  loaded_by=actor.username)
    db.add(row)
    db.flush()
    audit_service.record(db=db, actor=actor, action="rule_set.load", entity_type="rule_set", entity_id=row.id,
                         before=None, after={"code": row.code, "version": row.version, "sha256": digest,
                                             "is_default": row.is_default})
    return row, True


def read_rule_set_file(path: Path) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"Cannot read rule set file {path.name}: {exc}") from exc
    if not isinstance(content, dict):
        raise InvalidInput(f"Rule set file {path.name} must hold one JSON object.")
    return content


def get_rule_set_row(*, db: Session, code: str, version: str) -> RuleSet:
    row = db.scalar(select(RuleSet).where(RuleSet.code == code.upper(), RuleSet.version == version))
    if row is None:
        raise NotFound(f"No rule set {code}@{version} is loaded.")
    return row


def parse_reference(reference: str | None) -> tuple[str | None, str | None]:
    """'CN-EPP' -> latest effective version of CN-EPP; 'CN-EPP@2011.1' -> that version; None -> default."""
    if not reference:
        return None, None
    code, _, version = reference.partition("@")
    return code.strip().upper(), (version.strip() or None)


def get_rule_set(*, db: Session, reference: str | None = None, on: date | None = None) -> LoadedRuleSet:
    """The rule set a screening asked for: by code and version, by code (the newest version in
    force on `on`, today by default), or the utility's default."""
    code, version = parse_reference(reference)
    stmt = select(RuleSet)
    if code is None:
        stmt = stmt.where(RuleSet.is_default)
    else:
        stmt = stmt.where(RuleSet.code == code)
        if version is not None:
            stmt = stmt.where(RuleSet.version == version)
        else:
            stmt = stmt.where(RuleSet.effective_date <= (on or date.today()))
    row = db.scalar(stmt.order_by(RuleSet.effective_date.desc(), RuleSet.id.desc()).limit(1))
    if row is None:
        known = ", ".join(f"{c}@{v}" for c, v in db.execute(select(RuleSet.code, RuleSet.version)).all())
        wanted = reference or "the default rule set"
        raise NotFound(f"No rule set {wanted!r} is loaded (known: {known or 'none'}).")
    return _loaded(row)


def get_rule_set_by_id(*, db: Session, rule_set_id: int) -> LoadedRuleSet:
    row = db.get(RuleSet, rule_set_id)
    if row is None:
        raise NotFound(f"No rule set with id {rule_set_id}.")
    return _loaded(row)


def list_rule_sets(*, db: Session) -> list[RuleSet]:
    return list(db.scalars(select(RuleSet).order_by(RuleSet.code, RuleSet.effective_date)))
