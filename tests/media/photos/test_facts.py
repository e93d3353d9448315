"""What a photo says about itself (issue 11 §2), read back exactly as the phone wrote it, for all
four photo types; bad EXIF values become "unknown", never an error; a photo that is truncated,
corrupt or mislabelled is refused with a reason."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageFile
from PIL.TiffImagePlugin import IFDRational

from media.photos import PhotoType, UnreadablePhoto, read_facts
from tests.media.photo_factory import KINDS, make_photo, truncated

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
POLE = (116.397128, 39.916527)  # (longitude, latitude)
TAKEN = datetime(2026, 5, 1, 10, 30, 15)  # wall-clock time on the phone


@pytest.mark.parametrize("kind", KINDS)
def test_facts_are_read_back_exactly_as_the_phone_wrote_them(kind: str) -> None:
    photo = make_photo(kind, width=320, height=240, captured_at=TAKEN, offset="+08:00", gps=POLE,
                       accuracy_m=4.5, make="HUAWEI", model="P60 Pro", orientation=6)

    facts = read_facts(photo, local_tz=BERLIN)

    assert facts.photo_type is PhotoType(kind)
    assert (facts.width, facts.height) == (320, 240)  # as stored, not as displayed
    assert facts.captured_at == datetime(2026, 5, 1, 2, 30, 15, tzinfo=UTC)
    assert facts.captured_at.utcoffset() == timedelta(hours=8)
    assert facts.longitude == pytest.approx(POLE[0], abs=1e-6)
    assert facts.latitude == pytest.approx(POLE[1], abs=1e-6)
    assert facts.accuracy_m == pytest.approx(4.5)
    assert (facts.make, facts.model, facts.orientation) == ("HUAWEI", "P60 Pro", 6)


@pytest.mark.parametrize("kind", KINDS)
def test_a_capture_time_without_offset_is_wall_clock_time_in_the_local_zone(kind: str) -> None:
    photo = make_photo(kind, width=160, height=120, captured_at=TAKEN)

    assert read_facts(photo, local_tz=SHANGHAI).captured_at == datetime(2026, 5, 1, 2, 30, 15, tzinfo=UTC)
    assert read_facts(photo, local_tz=BERLIN).captured_at == datetime(2026, 5, 1, 8, 30, 15, tzinfo=UTC)


def test_a_negative_offset_is_honoured() -> None:
    photo = make_photo(width=160, height=120, captured_at=TAKEN, offset="-05:30")

    captured_at = read_facts(photo, local_tz=SHANGHAI).captured_at

    assert captured_at == datetime(2026, 5, 1, 10, 30, 15, tzinfo=timezone(-timedelta(hours=5, minutes=30)))


@pytest.mark.parametrize("position", [(-43.172897, -22.951916), (-0.127758, 51.507351), (151.2153, -33.8568)])
def test_southern_and_western_positions_keep_their_signs(position: tuple[float, float]) -> None:
    facts = read_facts(make_photo(width=160, height=120, gps=position), local_tz=UTC)

    assert facts.longitude == pytest.approx(position[0], abs=1e-6)
    assert facts.latitude == pytest.approx(position[1], abs=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_a_photo_without_gps_or_time_has_no_position_and_no_capture_time(kind: str) -> None:
    facts = read_facts(make_photo(kind, width=160, height=120, make=None, model=None, orientation=None), local_tz=SHANGHAI)

    assert (facts.longitude, facts.latitude, facts.accuracy_m, facts.captured_at) == (None, None, None, None)
    assert (facts.make, facts.model, facts.orientation) == (None, None, None)


def _jpeg_with_exif(gps: dict[int, object] | None = None, exif_ifd: dict[int, object] | None = None,
                    ifd0: dict[int, object] | None = None) -> bytes:
    """A JPEG with exactly the EXIF entries given, as a badly behaved phone or editor writes them."""
    exif = Image.Exif()
    for tag, value in (ifd0 or {}).items():
        exif[tag] = value
    exif.get_ifd(0x8769).update(exif_ifd or {})
    exif.get_ifd(0x8825).update(gps or {})
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 120, 150)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _dms(degrees: int, minutes: int, seconds: int) -> tuple[IFDRational, IFDRational, IFDRational]:
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 1)


@pytest.mark.parametrize(("what", "gps"), [
    ("latitude above 90", {1: "N", 2: _dms(91, 0, 0), 3: "E", 4: _dms(116, 0, 0)}),
    ("longitude above 180", {1: "N", 2: _dms(39, 0, 0), 3: "E", 4: _dms(181, 0, 0)}),
    ("no N/S reference", {2: _dms(39, 0, 0), 3: "E", 4: _dms(116, 0, 0)}),
    ("no E/W reference", {1: "N", 2: _dms(39, 0, 0), 4: _dms(116, 0, 0)}),
    ("a zero denominator", {1: "N", 2: (IFDRational(39, 1), IFDRational(1, 0), IFDRational(0, 1)),
                            3: "E", 4: _dms(116, 0, 0)}),
    ("minutes of 75", {1: "N", 2: _dms(39, 75, 0), 3: "E", 4: _dms(116, 0, 0)}),
    ("no longitude", {1: "N", 2: _dms(39, 0, 0), 3: "E"}),
])
def test_a_degenerate_gps_position_is_unknown_not_an_error(what: str, gps: dict[int, object]) -> None:
    facts = read_facts(_jpeg_with_exif(gps=gps), local_tz=SHANGHAI)

    assert (facts.longitude, facts.latitude) == (None, None), what


def test_a_blank_capture_time_falls_back_to_the_file_time_and_a_zero_date_is_unknown() -> None:
    file_time_only = _jpeg_with_exif(exif_ifd={36867: "    :  :     :  :  "}, ifd0={306: "2026:05:01 10:30:15"})
    zero_dates = _jpeg_with_exif(exif_ifd={36867: "0000:00:00 00:00:00"}, ifd0={306: "0000:00:00 00:00:00"})

    assert read_facts(file_time_only, local_tz=SHANGHAI).captured_at == datetime(2026, 5, 1, 2, 30, 15, tzinfo=UTC)
    assert read_facts(zero_dates, local_tz=SHANGHAI).captured_at is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_truncated_photo_is_refused_as_truncated(kind: str) -> None:
    photo = make_photo(kind, width=320, height=240, gps=POLE)

    for cut_off in (truncated(photo, 0.6), truncated(photo, 0.99), photo[:-1]):
        with pytest.raises(UnreadablePhoto) as refused:
            read_facts(cut_off, local_tz=SHANGHAI)
        assert refused.value.reason.startswith("truncated: "), (len(cut_off), refused.value.reason)


def test_a_png_uploaded_as_photo_jpg_is_read_as_the_png_it_is(tmp_path: Path) -> None:
    upload = tmp_path / "IMG_0001.jpg"
    upload.write_bytes(make_photo("png", width=160, height=120, gps=POLE))

    facts = read_facts(upload.read_bytes(), local_tz=SHANGHAI)

    assert facts.photo_type is PhotoType.png
    assert facts.longitude == pytest.approx(POLE[0], abs=1e-6)


@pytest.mark.parametrize(("what", "data"), [
    ("a PDF", b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n"),
    ("empty input", b""),
    ("garbage behind a JPEG signature", b"\xff\xd8\xff" + bytes(range(256)) * 4),
    ("a PNG behind a JPEG signature", b"\xff\xd8\xff" + make_photo("png", width=160, height=120)[3:]),
    ("a JPEG inside a WebP container", b"RIFF\xff\x00\x00\x00WEBPVP8 " + make_photo("jpeg", width=160, height=120)),
])
def test_a_file_that_is_not_the_photo_its_bytes_claim_is_refused(what: str, data: bytes) -> None:
    with pytest.raises(UnreadablePhoto) as refused:
        read_facts(data, local_tz=SHANGHAI)
    assert refused.value.reason, what


def test_a_photo_with_more_pixels_than_allowed_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_photo(width=320, height=240)

    with pytest.raises(UnreadablePhoto, match="too large"):
        read_facts(photo, local_tz=SHANGHAI, max_pixels=320 * 240 - 1)
    # Pillow's own limit (a decompression bomb) is the default, and it is a refusal, not a crash.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UnreadablePhoto, match="too large"):
        read_facts(photo, local_tz=SHANGHAI)


def test_photos_are_not_verified_while_pillow_accepts_truncated_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)

    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        read_facts(truncated(make_photo(width=160, height=120)), local_tz=SHANGHAI)


def test_facts_as_json_have_iso_times_and_leave_unknown_values_out() -> None:
    facts = read_facts(make_photo(width=160, height=120, captured_at=TAKEN, offset="+08:00", gps=POLE, model=None),
                       local_tz=SHANGHAI)

    document = json.loads(json.dumps(facts.as_json()))

    assert document["photo_type"] == "jpeg"
    assert document["captured_at"] == "2026-05-01T10:30:15+08:00"
    assert document["longitude"] == pytest.approx(POLE[0], abs=1e-6)
    assert "model" not in document and "accuracy_m" not in document
