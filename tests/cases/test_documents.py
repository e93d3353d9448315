"""Decision documents as PDF: wording per kind and language, findings, pagination, embedded CJK font, map.

No database: documents are rendered from plain values and read back with pypdf.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader
from pyproj import Geod
from reportlab.graphics.shapes import Drawing, Path, PolyLine
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from cases.documents import FONT_ENV, DecisionDocument, FindingRow, FontNotFound, find_font, render_decision_pdf
from cases.documents.fonts import DEBIAN_FONT_PACKAGE, register_font
from cases.documents.render import load_template
from cases.documents.site_map import MapLabels, local_frame, round_scale_length, site_map_drawing

KINDS = ("hazard_notice", "approval_with_clauses", "refusal")
LANGUAGES = ("zh", "en")
ZH_TITLES = {
    "hazard_notice": "消除隐患通知书",
    "approval_with_clauses": "用电报装批复（含电力设施保护条款）",
    "refusal": "不予批准决定书",
}
SIGNED_ON = date(2026, 3, 5)
SIGNED_ON_TEXT = {"zh": "2026年3月5日", "en": "5 March 2026"}
LABELS = MapLabels(north="N", scale="{length} m", zone="zone", line="line", site="site")

# A 10 kV line crossing a small building plot in Beijing, with its 5 m protection band.
PLOT = box(116.39000, 39.90000, 116.39050, 39.90040)
LINE = LineString([(116.3890, 39.8995), (116.3920, 39.9010)])
ZONE = LINE.buffer(0.0001)
FINDING = FindingRow(
    asset="line L-1234 (10 kV overhead)",
    rule="Overhead line protection zone (general area)",
    legal_source="电力设施保护条例 §10",
    required_m=12.35,
    measured_m=4.1,
    shortfall_m=8.25,
    outcome="conflict",
)


def make_document(kind: str = "hazard_notice", language: str = "zh", **changes: object) -> DecisionDocument:
    values: dict[str, object] = {
        "kind": kind,
        "language": language,
        "serial_number": "GW-HN-2026-000017",
        "request_number": "REQ-2026-00042",
        "applicant": "张*明",
        "site_address": "北京市西城区示例路1号",
        "request_type": "construction permit (building)",
        "verdict": "conflict",
        "rule_set": "CN-EPP 2011.1",
        "findings": [FINDING],
        "measures": ["拆除保护区内的彩钢棚 / remove the steel shed inside the zone"],
        "site": PLOT,
        "zones": [ZONE],
        "lines": [LINE],
        "signed_by": "王审批",
        "signed_on": SIGNED_ON,
        "organisation": "示例供电公司 Example Power Supply Co.",
    }
    values.update(changes)
    return DecisionDocument(**values)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def squash(text: str) -> str:
    """Text without whitespace, so that a phrase wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_document_carries_title_numbers_findings_and_signoff(kind: str, language: str) -> None:
    pdf = render_decision_pdf(make_document(kind, language))
    assert pdf.startswith(b"%PDF-")
    text = squash(pdf_text(pdf))
    expected = [
        load_template(language).titles[kind],
        "GW-HN-2026-000017",
        "REQ-2026-00042",
        "王审批",
        SIGNED_ON_TEXT[language],
        "电力设施保护条例§10",
        "12.35m",
        "4.10m",
        "8.25m",
        "CN-EPP2011.1",
        "北京市西城区示例路1号",
        "拆除保护区内的彩钢棚",
        load_template(language).standard_clauses[kind][0],
    ]
    for phrase in expected:
        assert squash(phrase) in text, phrase
    if language == "zh":
        assert ZH_TITLES[kind] in text


def test_chinese_comes_out_as_chinese() -> None:
    text = pdf_text(render_decision_pdf(make_document("hazard_notice", "zh")))
    assert "消除隐患通知书" in text  # not squashed: the title is one run of real CJK characters
    assert "审批人" in text and "隐患整改措施" in text


def test_sixty_findings_paginate_and_all_appear() -> None:
    findings = [
        replace(FINDING, asset=f"line L-{1000 + i}", measured_m=i + 0.25, shortfall_m=100 - i - 0.25,
                outcome="conflict" if i % 2 else "conditional")
        for i in range(60)
    ]
    pdf = render_decision_pdf(make_document("refusal", "en", findings=findings))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    text = squash(pdf_text(pdf))
    for i in range(60):
        assert f"lineL-{1000 + i}" in text
        assert f"{i + 0.25:.2f}m" in text
    # the column names repeat on the page the table continues on
    assert "Legalsource" in squash(pages[1].extract_text())
    assert "Page1of" in text and f"of{len(pages)}" in text


def test_font_is_embedded_and_no_unembedded_font_is_used() -> None:
    reader = PdfReader(io.BytesIO(render_decision_pdf(make_document("approval_with_clauses", "zh"))))
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        assert font["/Subtype"] == "/TrueType"
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the TrueType program is in the file
        assert "/ToUnicode" in font  # so that text can be searched and copied


def test_user_text_is_printed_literally() -> None:
    text = pdf_text(render_decision_pdf(make_document(applicant="A & <B> {applicant}", language="en")))
    assert "A & <B> {applicant}" in text


def test_rendering_is_deterministic() -> None:
    document = make_document("approval_with_clauses", "en")
    assert render_decision_pdf(document) == render_decision_pdf(document)


def test_site_far_north_renders_in_true_metres() -> None:
    site = Point(18.9553, 69.6492)  # Tromsø, 69.6° N
    geod = Geod(ellps="WGS84")
    lon, lat, _ = geod.fwd(site.x, site.y, 90, 30)  # 30 m due east
    frame = local_frame(site)
    x, y = frame.project(Point(lon, lat)).coords[0]
    assert x - frame.min_x - frame.side_m / 2 == pytest.approx(30, abs=0.01)
    assert y - frame.min_y - frame.side_m / 2 == pytest.approx(0, abs=0.01)
    assert frame.side_m == pytest.approx(100)  # a point gets the 50 m margin on each side

    line = LineString([(lon, lat - 0.01), (lon, lat + 0.01)])
    zone = LineString(line.coords).buffer(0.0002)
    document = make_document(site=site, lines=[line], zones=[zone], language="en")
    text = squash(pdf_text(render_decision_pdf(document)))
    assert "GW-HN-2026-000017" in text and "20m" in text  # scale bar: 30 % of 100 m, rounded down


def test_map_without_zones_or_lines() -> None:
    pdf = render_decision_pdf(make_document("approval_with_clauses", "en", zones=[], lines=[], findings=[],
                                            verdict="clear", site=Point(116.39, 39.9)))
    text = pdf_text(pdf)
    assert load_template("en").no_findings in text.replace("\n", " ")


def _drawn_points(drawing: Drawing) -> list[float]:
    coords: list[float] = []
    for shape in drawing.contents:
        if isinstance(shape, PolyLine | Path):
            coords += shape.points
    return coords


def test_map_clips_long_geometries_and_draws_holes_and_multiparts() -> None:
    font = register_font()
    site = LineString([(116.3900, 39.9000), (116.3903, 39.9001)])
    long_line = LineString([(115.0, 39.9), (118.0, 39.9)])  # about 250 km
    outer = box(116.380, 39.890, 116.400, 39.910)
    holed = Polygon(outer.exterior.coords, [box(116.3899, 39.8999, 116.3905, 39.9003).exterior.coords])
    zones = [MultiPolygon([holed, box(116.3910, 39.9010, 116.3920, 39.9020)])]
    drawing = site_map_drawing(site, zones, [long_line], labels=LABELS, font_name=font)
    points = _drawn_points(drawing)
    assert points
    assert all(-0.01 <= v <= drawing.width + 0.01 for v in points)
    subpaths = [s for s in drawing.contents if isinstance(s, Path)]
    assert any(s.operators.count(0) == 2 for s in subpaths)  # exterior + hole: two moveTo


def test_round_scale_lengths() -> None:
    assert [round_scale_length(v) for v in (0.4, 1, 7, 43, 100, 260, 4999)] == [1, 1, 5, 20, 100, 200, 2000]


def test_templates_agree_on_their_keys() -> None:
    zh, en = load_template("zh"), load_template("en")
    for name in ("titles", "labels", "verdicts", "outcomes", "intro", "headings", "measures_headings", "columns",
                 "standard_clauses", "rule_clauses", "governing", "signoff"):
        assert set(getattr(zh, name)) == set(getattr(en, name)), name
    assert set(zh.titles) == set(KINDS)
    assert zh.titles == ZH_TITLES


def test_missing_font_override_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FONT_ENV, "/nonexistent/fonts/missing.ttc")
    with pytest.raises(FontNotFound, match=DEBIAN_FONT_PACKAGE) as err:
        render_decision_pdf(make_document())
    assert "/nonexistent/fonts/missing.ttc" in str(err.value)


def test_no_known_font_installed_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FONT_ENV, raising=False)
    with pytest.raises(FontNotFound, match=f"apt-get install {DEBIAN_FONT_PACKAGE}"):
        find_font(candidates=())


def test_font_override_by_argument_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = find_font()
    monkeypatch.setenv(FONT_ENV, f"{installed.path}#{installed.subfont_index}")
    assert find_font() == installed
    assert find_font(str(installed.path)) == installed
    assert render_decision_pdf(make_document(), font=str(installed.path)).startswith(b"%PDF-")


def test_invalid_documents_are_refused() -> None:
    with pytest.raises(ValueError, match="measure"):
        make_document("hazard_notice", measures=[" "])
    with pytest.raises(ValueError, match="kind"):
        make_document("permit")
    with pytest.raises(ValueError, match="outcome"):
        replace(FINDING, outcome="maybe")
    with pytest.raises(ValueError, match="finite"):
        replace(FINDING, measured_m=float("nan"))
    # an approval may carry only the standard clauses
    assert make_document("approval_with_clauses", measures=[]).measures == ()
