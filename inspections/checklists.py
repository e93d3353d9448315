"""Checklist items and answers: what a template version may hold, and whether an answer fits its item.

An item is `{"key", "label", "answer_type", "required", ...}` with, per answer type:
- `yes_no`: the answer is true or false;
- `number`: a number within the item's optional `min`/`max`, in its `unit`;
- `choice`: one of the item's `choices`;
- `text`: free text;
- `photo`: `{"photos": [...]}`, references to photo evidence (evidence ids or the client's uuids).
  Photo evidence itself is issue 11: only the shape of the reference list is checked here.

Pure functions; `inspections.templates` stores versions, `inspections.service` records answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from core.errors import InvalidInput

ANSWER_TYPES = ("yes_no", "number", "choice", "text", "photo")
KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")
# Structural bounds of a checklist a phone shows and a person fills in (not utility rules).
MAX_ITEMS = 200
MAX_LABEL = 300
MAX_TEXT_ANSWER = 4000
MAX_PHOTOS = 20
MAX_PHOTO_REFERENCE = 100


def _item_error(index: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(f"Checklist item {index}: {field} {message}.",
                        errors=[{"field": f"items[{index}].{field}", "message": message}])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_items(items: Any) -> list[dict[str, Any]]:
    """The items of a new template version, normalised (every field present), or 422 naming the item."""
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidInput(f"A checklist needs 1 to {MAX_ITEMS} items.", errors=[{"field": "items", "message": "size"}])
    keys: set[str] = set()
    return [_validate_item(i, item, keys) for i, item in enumerate(items)]


def _validate_item(i: int, item: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _item_error(i, "item", "must be an object")
    known = {"key", "label", "answer_type", "required", "min", "max", "unit", "choices"}
    if unknown := sorted(set(item) - known):
        raise _item_error(i, unknown[0], "is not a checklist item field")
    key, label, answer_type = item.get("key"), item.get("label"), item.get("answer_type")
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise _item_error(i, "key", "must be lower-case letters, digits and _ (starting with a letter)")
    if key in keys:
        raise _item_error(i, "key", f"'{key}' is used twice")
    keys.add(key)
    if not isinstance(label, str) or not 1 <= len(label) <= MAX_LABEL:
        raise _item_error(i, "label", f"must be 1 to {MAX_LABEL} characters")
    if answer_type not in ANSWER_TYPES:
        raise _item_error(i, "answer_type", f"must be one of {', '.join(ANSWER_TYPES)}")
    required = item.get("required", False)
    if not isinstance(required, bool):
        raise _item_error(i, "required", "must be true or false")
    out: dict[str, Any] = {"key": key, "label": label, "answer_type": answer_type, "required": required}
    if answer_type == "number":
        low, high, unit = item.get("min"), item.get("max"), item.get("unit", "")
        if low is not None and not _is_number(low) or high is not None and not _is_number(high):
            raise _item_error(i, "min", "and max must be numbers")
        if low is not None and high is not None and low > high:
            raise _item_error(i, "min", "must not exceed max")
        if not isinstance(unit, str) or len(unit) > 40:
            raise _item_error(i, "unit", "must be text of at most 40 characters")
        out.update(min=low, max=high, unit=unit)
    elif answer_type == "choice":
        choices = item.get("choices")
        if (not isinstance(choices, list) or len(choices) < 2 or len(set(map(str, choices))) != len(choices)
                or not all(isinstance(c, str) and 1 <= len(c) <= 100 for c in choices)):
            raise _item_error(i, "choices", "must be at least two distinct texts")
        out["choices"] = choices
    elif any(field in item for field in ("min", "max", "unit", "choices")):
        raise _item_error(i, "answer_type", f"{answer_type} takes no min, max, unit or choices")
    return out


def _answer_error(key: str, message: str) -> InvalidInput:
    return InvalidInput(f"Answer to '{key}': {message}.", errors=[{"field": f"answers.{key}", "message": message}])


def validate_answer(item: Mapping[str, Any], value: Any) -> Any:
    """`value` if it answers `item` (None clears an answer), else 422 naming the item."""
    key, answer_type = item["key"], item["answer_type"]
    if value is None:
        return None
    if answer_type == "yes_no" and not isinstance(value, bool):
        raise _answer_error(key, "must be true or false")
    if answer_type == "number":
        if not _is_number(value):
            raise _answer_error(key, "must be a number")
        low, high = item.get("min"), item.get("max")
        if low is not None and value < low or high is not None and value > high:
            unit = f" {item.get('unit')}" if item.get("unit") else ""
            raise _answer_error(key, f"must be between {low if low is not None else '-∞'} and "
                                     f"{high if high is not None else '∞'}{unit}")
    if answer_type == "choice" and value not in item["choices"]:
        raise _answer_error(key, f"must be one of {', '.join(item['choices'])}")
    if answer_type == "text" and (not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER):
        raise _answer_error(key, f"must be text of at most {MAX_TEXT_ANSWER} characters")
    if answer_type == "photo":
        photos = value.get("photos") if isinstance(value, dict) and set(value) == {"photos"} else None
        if (not isinstance(photos, list) or not 1 <= len(photos) <= MAX_PHOTOS
                or not all(_photo_reference(p) for p in photos)):
            raise _answer_error(key, f'must be {{"photos": [1 to {MAX_PHOTOS} evidence ids or uuids]}}')
    return value


def _photo_reference(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value > 0) or (isinstance(value, str) and 1 <= len(value) <= MAX_PHOTO_REFERENCE)


def validate_answers(items: list[dict[str, Any]], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Each answer checked against its item of this checklist version; an unknown key is 422."""
    by_key = {item["key"]: item for item in items}
    checked = {}
    for key, value in answers.items():
        if key not in by_key:
            raise _answer_error(key, "is not an item of this checklist version")
        checked[key] = validate_answer(by_key[key], value)
    return checked


def missing_required(items: list[dict[str, Any]], answers: Mapping[str, Any]) -> list[str]:
    """The keys of required items without an answer (`answers` as stored: key -> {"value", ...})."""
    return [item["key"] for item in items
            if item["required"] and (answers.get(item["key"]) or {}).get("value") is None]
