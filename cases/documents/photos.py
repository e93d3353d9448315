"""The "photographic evidence" section of a decision document: the case's verified and suspicious
site photos as thumbnails, each with when it was taken and how far from the asset.

A notice or refusal is argued from what the inspector saw; the photos let the applicant see it too.
A suspicious photo is printed with its reasons (taken too far from the asset, or outside the visit),
never silently: the officer decided knowing them, and the reader must know them as well.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

__all__ = ["PHOTO_COLUMNS", "PHOTO_LIMIT", "DocumentPhoto", "photo_section"]

# At most this many photos on a document: two rows of three fit half a page under the findings;
# the rest stay on the case's page, and the document says how many it leaves out.
PHOTO_LIMIT = 6
PHOTO_COLUMNS = 3
THUMB_MAX_W = 52 * mm
THUMB_MAX_H = 40 * mm


@dataclass(frozen=True)
class DocumentPhoto:
    """One photo as printed: its thumbnail's JPEG bytes (None: not available), capture time already
    in the utility's local time zone, distance to the asset and, when suspicious, its reasons."""

    thumbnail: bytes | None
    captured_at: datetime | None
    distance_m: float | None
    device_position: bool  # located by the phone's position, not the photo's GPS (weaker)
    # Why it is suspicious, as (code, message) pairs; printed in the template's words for the code.
    suspicious_reasons: tuple[tuple[str, str], ...] = ()


def _thumbnail(data: bytes) -> Image:
    """The thumbnail scaled to fit its cell, aspect ratio kept (JPEG bytes are embedded as they are)."""
    width, height = ImageReader(io.BytesIO(data)).getSize()
    scale = min(THUMB_MAX_W / width, THUMB_MAX_H / height)
    return Image(io.BytesIO(data), width=width * scale, height=height * scale)


def _caption(photo: DocumentPhoto, labels: Mapping[str, str], *, separator: str, distance: str) -> list[str]:
    taken = labels["unknown"] if photo.captured_at is None else labels["datetime"].format(
        year=photo.captured_at.year, month=photo.captured_at.month, day=photo.captured_at.day,
        hour=photo.captured_at.hour, minute=photo.captured_at.minute)
    lines = [f"{labels['captured_at']}{separator}{taken}"]
    if photo.distance_m is not None:
        where = distance.format(value=f"{photo.distance_m:.2f}")
        if photo.device_position:
            where += labels["device_position"]
        lines.append(f"{labels['distance']}{separator}{where}")
    return lines


def photo_section(photos: Sequence[DocumentPhoto], *, left_out: int, labels: Mapping[str, str], separator: str,
                  distance: str, styles: tuple[ParagraphStyle, ParagraphStyle], escape_text: Callable[[object], str],
                  width: float
                  ) -> list[Flowable]:
    """The section's flowables after its heading: a grid of captioned thumbnails, and a line saying
    how many photos were left out. `styles` is (caption, warning) ParagraphStyles, `escape_text`
    the renderer's markup escaping and `width` the text width."""
    caption_style, warning_style = styles
    cells: list[list[Flowable]] = []
    for photo in photos:
        cell: list[Flowable] = [_thumbnail(photo.thumbnail) if photo.thumbnail is not None
                                else Paragraph(escape_text(labels["no_thumbnail"]), caption_style)]
        cell += [Paragraph(escape_text(line), caption_style)
                 for line in _caption(photo, labels, separator=separator, distance=distance)]
        if photo.suspicious_reasons:
            reasons = [labels.get(f"reason_{code}", message) for code, message in photo.suspicious_reasons]
            text = labels["suspicious"].format(reasons="; ".join(reasons))
            cell.append(Paragraph(escape_text(text), warning_style))
        cells.append(cell)
    rows = [cells[i:i + PHOTO_COLUMNS] for i in range(0, len(cells), PHOTO_COLUMNS)]
    rows[-1] += [[] for _ in range(PHOTO_COLUMNS - len(rows[-1]))]
    table = Table(rows, colWidths=[width / PHOTO_COLUMNS] * PHOTO_COLUMNS, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    out: list[Flowable] = [table]
    if left_out:
        out.append(Paragraph(escape_text(labels["left_out"].format(count=left_out)), caption_style))
    return out
