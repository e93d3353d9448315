"""Fingerprints of JSON documents kept as reference data (rule sets, holiday calendars).

The sha256 of the canonical JSON (sorted keys, no whitespace), so re-ordering keys or re-indenting
a file is not mistaken for a change of content. The migrations that seed these documents repeat
this rule inline, because a migration must keep working unchanged whatever the code becomes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def json_fingerprint(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
