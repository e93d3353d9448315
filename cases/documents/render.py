"""Decision documents (hazard-elimination notice, approval with protection clauses, refusal) as PDF.

An approval officer's decision on a connection request or construction permit is handed to the
applicant on paper, so it must stand on its own: the serial number (records are numbered
continuously), what was screened and found, what the applicant must do or why they are refused,
where the site is relative to the protection zones, and who signed it when. All fixed wording
lives in `templates/<language>.json` so that the legal text can be corrected without touching code.
The output is deterministic (reportlab's invariant mode): the same decision always gives the same
bytes, so the hash recorded for the issued PDF can be checked by rendering it again.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable
from shapely.geometry.base import BaseGeometry

from cases.documents.fonts import register_font
from cases.documents.photos import DocumentPhoto, photo_section
from cases.documents.site_map import MapLabels, legend_drawing, site_map_drawing

__all__ = ["DecisionDocument", "DocumentTemplate", "FindingRow", "load_template", "render_decision_pdf"]

DocumentKind = Literal["hazard_notice", "approval_with_clauses", "refusal"]
Language = Literal["zh", "en"]
Verdict = Literal["clear", "conditional", "conflict"]
Outcome = Literal["conflict", "conditional"]
Governing = Literal["horizontal", "vertical"]
# The documents that tell the applicant what to do print the clauses of the rules found; a refusal
# does not (its measures are the reasons, and there is nothing left to observe).
KINDS_WITH_RULE_CLAUSES: frozenset[str] = frozenset({"hazard_notice", "approval_with_clauses"})

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
PAGE_MARGIN = 18 * mm
BODY_SIZE = 10
TABLE_SIZE = 8
# Findings table column widths (mm), summing to the A4 text width (210 - 2 x 18).
FINDING_COLUMNS = (("index", 8), ("asset", 30), ("rule", 35), ("legal_source", 31), ("required", 18),
                   ("measured", 18), ("shortfall", 18), ("outcome", 16))
NUMERIC_COLUMNS = {"index", "required", "measured", "shortfall"}


@dataclass(frozen=True)
class FindingRow:
    """One screening finding as printed: which asset, which rule and law, and how far short the site is."""

    asset: str
    rule: str
    legal_source: str
    required_m: float
    measured_m: float
    shortfall_m: float
    outcome: Outcome
    # The rule's clause key (`rule_clauses` of the template), when its rule names one.
    clause: str | None = None
    # Which distance the three figures are, for a clearance weighed horizontally and vertically.
    governing: Governing | None = None

    def __post_init__(self) -> None:
        # A distance printed as "nan m" on a legal notice is worse than no notice.
        for name in ("required_m", "measured_m", "shortfall_m"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"Finding {self.asset!r}: {name} must be a finite number of metres.")
        if self.outcome not in get_args(Outcome):
            raise ValueError(
                f"Finding {self.asset!r}: outcome must be one of {get_args(Outcome)}, not {self.outcome!r}.")
        if self.governing is not None and self.governing not in get_args(Governing):
            raise ValueError(
                f"Finding {self.asset!r}: governing must be one of {get_args(Governing)}, not {self.governing!r}.")
        if self.clause is not None and not (isinstance(self.clause, str) and self.clause.strip()):
            raise ValueError(f"Finding {self.asset!r}: clause must be a clause key or None, not {self.clause!r}.")


@dataclass(frozen=True)
class DecisionDocument:
    """Everything printed on one decision document; the caller has already masked personal data.

    `site`, `zones` and `lines` are shapely geometries in EPSG:4326 (lon/lat). `measures` are the
    officer's own hazard measures, protection clauses or refusal reasons; after them come the
    clauses of the rules found (not on a refusal) and the template's standard clauses for the kind.
    """

    kind: DocumentKind
    language: Language
    serial_number: str
    request_number: str
    applicant: str
    site_address: str
    request_type: str
    verdict: Verdict
    rule_set: str
    findings: Sequence[FindingRow]
    measures: Sequence[str]
    site: BaseGeometry
    zones: Sequence[BaseGeometry]
    lines: Sequence[BaseGeometry]
    signed_by: str
    signed_on: date
    organisation: str
    # The case's site photos to print (already limited) and how many more the case has.
    photos: Sequence[DocumentPhoto] = ()
    photos_left_out: int = 0

    def __post_init__(self) -> None:
        # Typing is not enforced at run time; a wrong kind or language would otherwise surface as a
        # KeyError deep inside the template, and a mutable list could change after validation.
        if self.kind not in get_args(DocumentKind):
            raise ValueError(f"Unknown document kind {self.kind!r}; expected one of {get_args(DocumentKind)}.")
        if self.language not in get_args(Language):
            raise ValueError(f"Unknown language {self.language!r}; expected one of {get_args(Language)}.")
        if self.verdict not in get_args(Verdict):
            raise ValueError(f"Unknown verdict {self.verdict!r}; expected one of {get_args(Verdict)}.")
        for name in ("serial_number", "request_number", "signed_by", "organisation"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"A decision document needs a {name.replace('_', ' ')}.")
        if self.kind != "approval_with_clauses" and not [m for m in self.measures if m.strip()]:
            # A notice must tell the applicant what to fix, a refusal why it refuses.
            raise ValueError(f"A {self.kind.replace('_', ' ')} needs at least one measure or reason from the officer.")
        if self.site.is_empty:
            raise ValueError("A decision document needs the site geometry for its map.")
        for name in ("findings", "measures", "zones", "lines", "photos"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class DocumentTemplate:
    """The fixed wording of one language, loaded from `templates/<language>.json`."""

    separator: str
    word_wrap: str
    titles: Mapping[str, str]
    labels: Mapping[str, str]
    verdicts: Mapping[str, str]
    outcomes: Mapping[str, str]
    intro: Mapping[str, str]
    headings: Mapping[str, str]
    measures_headings: Mapping[str, str]
    columns: Mapping[str, str]
    no_findings: str
    distance: str
    standard_clauses: Mapping[str, tuple[str, ...]]
    # One clause per rule clause key; the fallback ("{rule}", "{source}") for a key without wording,
    # which a utility's own rule set may name.
    rule_clauses: Mapping[str, str]
    rule_clause_fallback: str
    # Labels of the governing distance and how the findings table adds one to the measured figure.
    governing: Mapping[str, str]
    governing_note: str
    photos: Mapping[str, str]
    map: MapLabels
    signoff: Mapping[str, str]
    date_format: str
    months: tuple[str, ...]
    footer: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentTemplate:
        """Build from the JSON layout; a missing or unknown key fails here, not half-way through a PDF."""
        data = dict(data)
        for key in ("rule_clauses", "rule_clause_fallback", "governing", "governing_note"):
            if key not in data:
                raise ValueError(f"The document template has no {key!r}.")
        date_spec = data.pop("date")
        data["map"] = MapLabels(**data["map"])
        data["standard_clauses"] = {k: tuple(v) for k, v in data["standard_clauses"].items()}
        template = cls(date_format=date_spec["format"], months=tuple(date_spec["months"]), **data)
        for kind in get_args(DocumentKind):
            for part in (template.titles, template.intro, template.measures_headings, template.standard_clauses):
                if kind not in part:
                    raise ValueError(f"The document template has no wording for {kind!r}.")
        for name in get_args(Governing):
            if not str(template.governing.get(name, "")).strip():
                raise ValueError(f"The document template has no label for the {name} distance.")
        _check_placeholders("rule_clause_fallback", template.rule_clause_fallback, ("rule", "source"))
        _check_placeholders("governing_note", template.governing_note, ("governing",))
        return template

    def format_date(self, value: date) -> str:
        """The sign-off date in this language's official form."""
        return self.date_format.format(year=value.year, month=value.month, day=value.day,
                                       month_name=self.months[value.month - 1])

    def format_distance(self, metres: float) -> str:
        """Distances always to the centimetre, as measured (a vertical gap below zero keeps its sign:
        the object's top is above the conductor)."""
        return self.distance.format(value=f"{metres:.2f}")

    def format_measured(self, finding: FindingRow) -> str:
        """The measured distance, and on a line of its own which distance it is when a clearance was
        weighed both ways (the narrow column wraps there rather than inside a word)."""
        measured = self.format_distance(finding.measured_m)
        if finding.governing is None:
            return measured
        return f"{measured}\n{self.governing_note.format(governing=self.governing[finding.governing])}"

    def rule_clauses_for(self, findings: Sequence[FindingRow]) -> list[str]:
        """One clause per distinct clause key of `findings`, in the order the keys first appear; a key
        without wording here gets the fallback with the title and source of its first finding."""
        first: dict[str, FindingRow] = {}
        for finding in findings:
            if finding.clause is not None:
                first.setdefault(finding.clause, finding)
        return [self.rule_clauses[key] if key in self.rule_clauses
                else self.rule_clause_fallback.format(rule=finding.rule, source=finding.legal_source)
                for key, finding in first.items()]


def _check_placeholders(name: str, wording: str, fields: tuple[str, ...]) -> None:
    """`wording` fills with exactly `fields`: another placeholder would fail on the first document
    that needs the wording, and a missing one would drop what it names (a fallback clause citing
    no rule or no source)."""
    probes = {field: f"\x00{field}\x00" for field in fields}
    try:
        filled = wording.format(**probes)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"The document template's {name} may only use the placeholders {fields}: {exc!r}.") from exc
    missing = [field for field in fields if probes[field] not in filled]
    if missing:
        raise ValueError(f"The document template's {name} must name {missing}.")


@cache
def load_template(language: str) -> DocumentTemplate:
    """The wording for `language` ("zh" or "en"), read once per process."""
    if language not in get_args(Language):
        raise ValueError(f"No document template for language {language!r}.")
    with (TEMPLATE_DIR / f"{language}.json").open(encoding="utf-8") as fh:
        return DocumentTemplate.from_json(json.load(fh))


def _text(value: object) -> str:
    """User text made safe for reportlab's paragraph markup, line breaks kept."""
    return escape(str(value)).replace("\n", "<br/>")


@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    small_right: ParagraphStyle
    conflict: ParagraphStyle
    organisation: ParagraphStyle
    title: ParagraphStyle
    serial: ParagraphStyle
    heading: ParagraphStyle
    item: ParagraphStyle
    right: ParagraphStyle

    @classmethod
    def build(cls, font: str, word_wrap: str) -> _Styles:
        wrap = "CJK" if word_wrap == "CJK" else None
        body = ParagraphStyle("gw-body", fontName=font, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.45, wordWrap=wrap)
        small = ParagraphStyle("gw-small", parent=body, fontSize=TABLE_SIZE, leading=TABLE_SIZE * 1.3)
        return cls(
            body=body,
            small=small,
            small_right=ParagraphStyle("gw-small-right", parent=small, alignment=TA_RIGHT),
            conflict=ParagraphStyle("gw-conflict", parent=small, textColor=colors.Color(0.7, 0, 0)),
            organisation=ParagraphStyle("gw-org", parent=body, fontSize=12, leading=16, alignment=TA_CENTER),
            title=ParagraphStyle("gw-title", parent=body, fontSize=17, leading=23, alignment=TA_CENTER,
                                 spaceBefore=4, spaceAfter=4),
            serial=ParagraphStyle("gw-serial", parent=body, alignment=TA_RIGHT, spaceAfter=6),
            heading=ParagraphStyle("gw-heading", parent=body, fontSize=11.5, leading=16, spaceBefore=10,
                                   spaceAfter=4),
            item=ParagraphStyle("gw-item", parent=body, leftIndent=16, bulletIndent=0, bulletFontName=font,
                                spaceAfter=2),
            right=ParagraphStyle("gw-right", parent=body, alignment=TA_RIGHT),
        )


def _grid_style(font: str) -> list[tuple[Any, ...]]:
    return [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]


def _info_table(doc: DecisionDocument, tpl: DocumentTemplate, st: _Styles, font: str) -> Table:
    """The request's particulars, two label/value pairs a row to leave room for the map on page one."""
    pairs = [
        ("request_number", doc.request_number), ("request_type", doc.request_type),
        ("applicant", doc.applicant), ("verdict", tpl.verdicts.get(doc.verdict, doc.verdict)),
        ("site_address", doc.site_address), ("rule_set", doc.rule_set),
    ]
    cells = [[Paragraph(_text(tpl.labels[key]), st.body), Paragraph(_text(value), st.body)] for key, value in pairs]
    data = [cells[i] + cells[i + 1] for i in range(0, len(cells), 2)]
    label_w = 32 * mm
    value_w = (A4[0] - 2 * PAGE_MARGIN) / 2 - label_w
    table = Table(data, colWidths=[label_w, value_w, label_w, value_w])
    shade = colors.Color(0.94, 0.94, 0.94)
    table.setStyle(TableStyle([*_grid_style(font), ("BACKGROUND", (0, 0), (0, -1), shade),
                               ("BACKGROUND", (2, 0), (2, -1), shade)]))
    return table


def _cell_style(st: _Styles, column: str, outcome: str) -> ParagraphStyle:
    if column in NUMERIC_COLUMNS:
        return st.small_right
    return st.conflict if column == "outcome" and outcome == "conflict" else st.small


def _findings_table(doc: DecisionDocument, tpl: DocumentTemplate, st: _Styles, font: str) -> Flowable:
    if not doc.findings:
        return Paragraph(_text(tpl.no_findings), st.body)
    header = [Paragraph(_text(tpl.columns[key]), st.small) for key, _ in FINDING_COLUMNS]
    rows: list[list[Paragraph]] = [header]
    for number, finding in enumerate(doc.findings, start=1):
        values = {
            "index": str(number),
            "asset": finding.asset,
            "rule": finding.rule,
            "legal_source": finding.legal_source,
            "required": tpl.format_distance(finding.required_m),
            "measured": tpl.format_measured(finding),
            "shortfall": tpl.format_distance(finding.shortfall_m),
            "outcome": tpl.outcomes.get(finding.outcome, finding.outcome),
        }
        rows.append([Paragraph(_text(values[key]), _cell_style(st, key, finding.outcome))
                     for key, _ in FINDING_COLUMNS])
    # repeatRows: a findings table running over several pages keeps its column names on each.
    table = Table(rows, colWidths=[w * mm for _, w in FINDING_COLUMNS], repeatRows=1)
    table.setStyle(TableStyle([*_grid_style(font), ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9))]))
    return table


def _numbered_list(doc: DecisionDocument, tpl: DocumentTemplate, st: _Styles) -> list[Flowable]:
    """The officer's own measures first, then the clauses of the rules found (what this site must
    observe), then the template's standard clauses for the kind."""
    rule_clauses = tpl.rule_clauses_for(doc.findings) if doc.kind in KINDS_WITH_RULE_CLAUSES else []
    items = [m for m in doc.measures if m.strip()] + rule_clauses + list(tpl.standard_clauses[doc.kind])
    return [Paragraph(_text(item), st.item, bulletText=f"{n}.") for n, item in enumerate(items, start=1)]


def _photos(doc: DecisionDocument, tpl: DocumentTemplate, st: _Styles) -> list[Flowable]:
    """The photographic evidence section; nothing at all when the case has no photos."""
    if not doc.photos:
        return []
    return [Paragraph(_text(tpl.photos["heading"]), st.heading),
            *photo_section(doc.photos, left_out=doc.photos_left_out, labels=tpl.photos, separator=tpl.separator,
                           distance=tpl.distance, styles=(st.small, st.conflict), escape_text=_text,
                           width=A4[0] - 2 * PAGE_MARGIN)]


def _map_and_signoff(doc: DecisionDocument, tpl: DocumentTemplate, st: _Styles, font: str) -> Table:
    """The site map with its legend and the sign-off beside it: kept side by side so that a short
    document fits on one page and the signature always sits next to what it approves."""
    drawing = site_map_drawing(doc.site, doc.zones, doc.lines, labels=tpl.map, font_name=font)
    sep = tpl.separator
    side: list[Flowable] = [
        legend_drawing(tpl.map, font_name=font),
        Spacer(1, 14 * mm),
        Paragraph(_text(f"{tpl.signoff['signed_by']}{sep}{doc.signed_by}"), st.body),
        Paragraph(_text(f"{tpl.signoff['signed_on']}{sep}{tpl.format_date(doc.signed_on)}"), st.body),
        Spacer(1, 8 * mm),
        Paragraph(_text(doc.organisation), st.right),
        Paragraph(_text(tpl.signoff["seal"]), st.right),
    ]
    map_w = drawing.width + 6 * mm
    table = Table([[drawing, side]], colWidths=[map_w, A4[0] - 2 * PAGE_MARGIN - map_w], hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _footer_canvas(tpl: DocumentTemplate, serial_number: str, font: str) -> type[Canvas]:
    """A canvas that prints "serial · page n of N" on every page; N is known only once all pages
    are laid out, so pages are kept and drawn at save time."""

    class FooterCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._page_states: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._page_states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            pages = len(self._page_states)
            for number, state in enumerate(self._page_states, start=1):
                self.__dict__.update(state)
                self.setFont(font, TABLE_SIZE)
                self.setFillColor(colors.grey)
                self.drawCentredString(A4[0] / 2, 10 * mm, tpl.footer.format(
                    serial_number=serial_number, page=number, pages=pages))
                super().showPage()
            super().save()

    return FooterCanvas


def render_decision_pdf(document: DecisionDocument, *, font: str | None = None) -> bytes:
    """Render `document` as an A4 PDF and return its bytes.

    `font` overrides the font file (else `GW_DOCUMENT_FONT`, else the installed CJK font); raises
    `cases.documents.fonts.FontNotFound` when there is none, since a PDF without CJK glyphs
    would be unreadable.
    """
    font_name = register_font(font)
    tpl = load_template(document.language)
    st = _Styles.build(font_name, tpl.word_wrap)
    title = tpl.titles[document.kind]
    sep = tpl.separator

    story: list[Flowable] = [
        Paragraph(_text(document.organisation), st.organisation),
        Paragraph(_text(title), st.title),
        Paragraph(_text(f"{tpl.labels['serial_number']}{sep}{document.serial_number}"), st.serial),
        Paragraph(escape(tpl.intro[document.kind]).format(applicant=_text(document.applicant)), st.body),
        Spacer(1, 3 * mm),
        _info_table(document, tpl, st, font_name),
        Paragraph(_text(tpl.headings["findings"]), st.heading),
        _findings_table(document, tpl, st, font_name),
        *_photos(document, tpl, st),
        Paragraph(_text(tpl.measures_headings[document.kind]), st.heading),
        *_numbered_list(document, tpl, st),
        KeepTogether([Paragraph(_text(tpl.headings["map"]), st.heading),
                      _map_and_signoff(document, tpl, st, font_name)]),
    ]

    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=PAGE_MARGIN, rightMargin=PAGE_MARGIN, topMargin=PAGE_MARGIN,
        bottomMargin=PAGE_MARGIN + 4 * mm, title=f"{title} {document.serial_number}", author=document.organisation,
        subject=document.request_number, creator="GridWarden", lang="zh-CN" if document.language == "zh" else "en",
        invariant=True, initialFontName=font_name, initialFontSize=BODY_SIZE,
    )
    pdf.build(story, canvasmaker=_footer_canvas(tpl, document.serial_number, font_name))
    return buffer.getvalue()
