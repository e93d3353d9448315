"""Decision documents on connection requests and construction permits: hazard-elimination notice
(《消除隐患通知书》), approval with protection clauses, refusal, rendered as PDF in Chinese or English."""

from cases.documents.fonts import FONT_ENV, FontNotFound, find_font
from cases.documents.render import DecisionDocument, FindingRow, render_decision_pdf

__all__ = ["FONT_ENV", "DecisionDocument", "FindingRow", "FontNotFound", "find_font", "render_decision_pdf"]
