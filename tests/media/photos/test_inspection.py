"""The worker's one-decode inspection gives exactly what the two separate calls give."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from media.photos import UnreadablePhoto, inspect_photo, read_facts, render_variants
from tests.media.photo_factory import KINDS, make_photo, truncated

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("kind", KINDS)
def test_one_inspection_gives_the_facts_and_the_variants_of_the_separate_calls(kind: str) -> None:
    photo = make_photo(kind, width=400, height=300, captured_at=datetime(2026, 5, 1, 10, 30),
                       gps=(116.397128, 39.916527), accuracy_m=6.0, orientation=8)

    inspected = inspect_photo(photo, local_tz=SHANGHAI)

    assert inspected.facts == read_facts(photo, local_tz=SHANGHAI)
    assert inspected.variants == render_variants(photo)


def test_an_unreadable_photo_is_refused_by_the_inspection_too() -> None:
    with pytest.raises(UnreadablePhoto, match="^truncated: "):
        inspect_photo(truncated(make_photo(width=400, height=300)), local_tz=SHANGHAI)
