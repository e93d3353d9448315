"""Decision documents print the clause of each rule found: a kite finding makes the notice or the
approval forbid kites within 300 m (条例 §14), a tree finding requires the trimming (实施细则 §16), and
so on, once per rule whatever the number of findings, after the officer's own measures and before
the standard clauses; a refusal prints none (its measures are its reasons). A clearance weighed both
ways says in the findings table which distance governed, and a tree whose top is above the conductor
shows the negative gap. Findings stored before the rule sets named clauses print as they always did.

Rendered from plain values and read back with pypdf (as in test_documents.py), except the last two
tests, which register cases through the API so that the screening engine stores the findings.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cases.documents import FindingRow, render_decision_pdf
from cases.documents.render import TEMPLATE_DIR, DocumentTemplate, load_template
from cases.issuing import _finding_rows
from tests.cases.conftest import NEAR, Desk, construction_body
from tests.cases.conftest import pdf_text as api_pdf_text
from tests.cases.test_documents import FINDING, LANGUAGES, make_document, pdf_text, squash
from tests.gis.screening.conftest import HEFEI, square

RULE_SET_DIR = Path(__file__).resolve().parents[2] / "gis" / "data" / "rule_sets"
MEASURE = "拆除保护区内的彩钢棚 / remove the steel shed inside the zone"
GOVERNING = {"en": ("(horizontal)", "(vertical)"), "zh": ("（水平）", "（垂直）")}

KITE = FindingRow(asset="line L-1234 (10 kV overhead)", rule="No kite flying within 300 m either side of an overhead line",
                  legal_source="电力设施保护条例 §14", required_m=300.0, measured_m=41.0, shortfall_m=259.0,
                  outcome="conflict", clause="kite")
# A 25 m poplar planted under a 10 kV conductor hanging at 5.5 m: its top is 19.5 m above the wire.
TREE = FindingRow(asset="line L-1234 (10 kV overhead)", rule="Clearance between conductor and tree",
                  legal_source="电力设施保护条例实施细则 §16", required_m=3.0, measured_m=-2.5, shortfall_m=5.5,
                  outcome="conflict", clause="tree_clearance", governing="vertical")
CRANE = FindingRow(asset="line L-77 (35 kV overhead)", rule="Crane clearance", legal_source="JGJ 46-2005 §4.1.4",
                   required_m=3.5, measured_m=3.2, shortfall_m=0.3, outcome="conflict", clause="crane_clearance",
                   governing="horizontal")


def clause(language: str, key: str) -> str:
    return squash(load_template(language).rule_clauses[key])


def rendered(kind: str, language: str, findings: list[FindingRow], **changes: Any) -> str:
    """The document's text, whitespace removed."""
    return squash(pdf_text(render_decision_pdf(make_document(kind, language, findings=findings, **changes))))


@pytest.mark.parametrize("language", LANGUAGES)
def test_approval_prints_the_kite_clause_once_between_the_measures_and_the_standard_clauses(language: str) -> None:
    kites = [replace(KITE, asset=f"line L-{n}") for n in (1, 2, 3)]

    text = rendered("approval_with_clauses", language, [FINDING, *kites], verdict="conflict")

    kite = clause(language, "kite")
    assert text.count(kite) == 1
    standard = squash(load_template(language).standard_clauses["approval_with_clauses"][0])
    assert text.index(squash(MEASURE)) < text.index(kite) < text.index(standard)
    # numbered on from the officer's one measure: measure 1, kite clause 2, standard clauses from 3
    assert f"2.{kite}" in text and f"3.{standard}" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_hazard_notice_prints_each_rule_clause_in_the_order_its_findings_come(language: str) -> None:
    tree, crane = clause(language, "tree_clearance"), clause(language, "crane_clearance")

    text = rendered("hazard_notice", language, [TREE, CRANE, replace(TREE, asset="line L-9")])
    assert text.count(tree) == 1 and text.count(crane) == 1
    assert text.index(tree) < text.index(crane)

    text = rendered("hazard_notice", language, [CRANE, TREE])
    assert text.index(crane) < text.index(tree)


@pytest.mark.parametrize("language", LANGUAGES)
def test_refusal_prints_no_rule_clause(language: str) -> None:
    text = rendered("refusal", language, [KITE, TREE, CRANE, replace(FINDING, clause="private_rule")])

    for key in ("kite", "tree_clearance", "crane_clearance"):
        assert clause(language, key) not in text, key
    fallback_start = squash(load_template(language).rule_clause_fallback.split("{")[0])
    assert fallback_start not in text
    # the reasons and the standard wording are there as before
    assert squash(MEASURE) in text
    assert squash(load_template(language).standard_clauses["refusal"][0]) in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_clause_without_wording_prints_the_fallback_with_its_rule_and_source(language: str) -> None:
    own = replace(FINDING, rule="Utility rule: no fireworks under lines", legal_source="Utility bylaw 7.3",
                  clause="fireworks")
    second = replace(own, asset="line L-5", rule="another title of the same clause")

    text = rendered("hazard_notice", language, [own, second, KITE])

    expected = squash(load_template(language).rule_clause_fallback.format(
        rule="Utility rule: no fireworks under lines", source="Utility bylaw 7.3"))
    assert text.count(expected) == 1
    assert text.count(squash(second.rule)) == 1  # in the findings table only
    assert text.index(expected) < text.index(clause(language, "kite"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_findings_table_says_which_distance_governed_and_keeps_a_negative_gap(language: str) -> None:
    horizontal, vertical = GOVERNING[language]

    text = rendered("hazard_notice", language, [TREE, CRANE])

    assert f"-2.50m{vertical}" in text  # the tree's top is 2.5 m above the conductor
    assert "3.00m" in text and "5.50m" in text  # required, and shortfall counted from the gap
    assert f"3.20m{horizontal}" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_findings_without_clause_or_governing_print_no_clause_and_no_label(language: str) -> None:
    text = rendered("approval_with_clauses", language, [FINDING])

    assert "4.10m" in text
    for label in GOVERNING[language]:
        assert label not in text
    template = load_template(language)
    standard = [squash(c) for c in template.standard_clauses["approval_with_clauses"]]
    # numbered exactly as before: the measure, then the standard clauses
    assert f"1.{squash(MEASURE)}" in text and f"2.{standard[0]}" in text


def test_stored_findings_from_before_clauses_render_as_they_always_did() -> None:
    """A finding stored before the rule sets named clauses (no `clause`, no `governing`) gives the same
    row, and the same bytes, as a row built without them."""
    stored = {"asset": {"layer": "line", "external_id": "L-1234", "nominal_kv": 10.0, "construction": "overhead"},
              "rule": {"code": "zone.overhead.general", "kind": "zone", "title": FINDING.rule,
                       "title_zh": "架空电力线路保护区（一般地区）", "source": FINDING.legal_source,
                       "measured_from": "outermost conductor, horizontally"},
              "outcome": "conflict", "required_m": 12.35, "measured_m": 4.1, "shortfall_m": 8.25,
              "nearest_points": None}

    (row,) = _finding_rows([stored], "en")

    assert (row.clause, row.governing) == (None, None)
    assert row == FINDING
    document = make_document("approval_with_clauses", "en", findings=[row])
    assert render_decision_pdf(document) == render_decision_pdf(make_document("approval_with_clauses", "en"))


def test_stored_findings_carry_their_clause_and_governing_distance() -> None:
    stored = {"asset": {"layer": "line", "external_id": "L-1", "nominal_kv": 10.0, "construction": "overhead"},
              "rule": {"code": "clearance.tree", "kind": "clearance", "title": "Tree clearance", "title_zh": "树木",
                       "source": "电力设施保护条例实施细则 §16", "measured_from": "", "clause": "tree_clearance",
                       "governing": "vertical", "horizontal": {"required_m": 2.5, "measured_m": 0.0},
                       "vertical": {"required_m": 3.0, "gap_m": -19.5}},
              "outcome": "conflict", "required_m": 3.0, "measured_m": -19.5, "shortfall_m": 22.5,
              "nearest_points": None}

    (row,) = _finding_rows([stored], "zh")

    assert (row.rule, row.clause, row.governing, row.measured_m) == ("树木", "tree_clearance", "vertical", -19.5)


def test_a_finding_governed_by_anything_but_a_horizontal_or_vertical_distance_is_refused() -> None:
    with pytest.raises(ValueError, match="governing"):
        replace(TREE, governing="diagonal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="clause"):
        replace(TREE, clause=" ")


def shipped_clauses() -> set[str]:
    """Every clause key a shipped rule set names (read from the files, not listed here)."""
    keys = set()
    for path in sorted(RULE_SET_DIR.glob("*.json")):
        for rule in json.loads(path.read_text(encoding="utf-8"))["rules"]:
            if rule.get("clause") is not None:
                keys.add(rule["clause"])
    return keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_clause_of_the_shipped_rule_sets_has_wording(language: str) -> None:
    keys = shipped_clauses()
    assert {"kite", "tree_clearance", "crane_clearance"} <= keys  # the files were read

    template = load_template(language)

    assert keys <= set(template.rule_clauses), keys - set(template.rule_clauses)
    for key in keys:
        assert template.rule_clauses[key].strip()


def template_json(language: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("key", "change", "message"), [
    ("rule_clauses", None, "rule_clauses"),
    ("rule_clause_fallback", None, "rule_clause_fallback"),
    ("governing", None, "governing"),
    ("governing_note", None, "governing_note"),
    ("governing", {"horizontal": "horizontal"}, "vertical"),
    ("rule_clause_fallback", "Observe {rule}.", "source"),
    ("rule_clause_fallback", "Observe {rule} ({source}, {article}).", "placeholders"),
])
def test_a_template_without_clause_wording_fails_when_loaded(language: str, key: str, change: Any,
                                                             message: str) -> None:
    data = template_json(language)
    if change is None:
        del data[key]
    else:
        data[key] = change

    with pytest.raises(ValueError, match=message):
        DocumentTemplate.from_json(data)


# --- issued through the API: findings stored by the screening engine ------------------------------------


def screening_findings(desk: Desk, case: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the case's screenings, as GET /screenings/{id} explains them."""
    findings = []
    for screening_id in case["screening_ids"]:
        response = desk.client.get(f"/api/v1/screenings/{screening_id}", headers=desk.people["approver"].headers)
        assert response.status_code == 200, response.text
        findings += response.json()["findings"]
    return findings


def test_kite_flying_next_to_a_line_gets_the_kite_clause_on_the_notice_and_the_approval(desk: Desk) -> None:
    kite_field = [{"activity": "kite_flying", "parameters": {}}]
    case = desk.register(construction_body(NEAR, activities=kite_field))
    (finding,) = screening_findings(desk, case)
    assert (finding["rule"]["clause"], finding["outcome"]) == ("kite", "conflict")

    case = desk.act(desk.surveyed(case, hazard=True), "issue_hazard_notice", by="approver", language="zh",
                    measures=["停止在线路旁放风筝"])
    _, pdf = desk.document(case)
    text = api_pdf_text(pdf)
    assert clause("zh", "kite") in text
    assert text.index("停止在线路旁放风筝") < text.index(clause("zh", "kite"))

    case = desk.act(desk.reinspected(case, passed=True), "approve_with_clauses", by="approver", language="en",
                    measures=["Kite flying moved to the park 1 km away"])
    _, pdf = desk.document(case)
    assert api_pdf_text(pdf).count(clause("en", "kite")) == 1


def test_a_permit_for_tall_machinery_crossing_a_line_on_its_site_gets_both_vehicle_clauses(desk: Desk) -> None:
    machinery = [{"activity": "vehicle_passage", "parameters": {"height_m": 30.0}}]
    # the site straddles the line: the machinery passes under the conductors, its top above them
    case = desk.register(construction_body(HEFEI, activities=machinery, footprint=square(HEFEI, 5.0)))
    clauses = {f["rule"].get("clause") for f in screening_findings(desk, case)}
    assert clauses == {"vehicle_over_height", "vehicle_clearance"}

    case = desk.act(desk.surveyed(case, hazard=True), "issue_hazard_notice", by="approver", language="en",
                    measures=["Lower the boom before passing under the line"])
    _, pdf = desk.document(case)
    text = api_pdf_text(pdf)
    assert clause("en", "vehicle_over_height") in text and clause("en", "vehicle_clearance") in text


def test_tree_reaching_above_the_conductor_prints_the_vertical_gap_and_the_tree_clause(desk: Desk) -> None:
    poplars = [{"activity": "tree_planting", "parameters": {"mature_height_m": 25}}]
    # the plot straddles the line, so the trees stand under the conductors
    case = desk.register(construction_body(HEFEI, activities=poplars, footprint=square(HEFEI, 5.0)))
    (tree,) = [f for f in screening_findings(desk, case) if f["rule"].get("clause") == "tree_clearance"]
    assert tree["rule"]["governing"] == "vertical" and tree["measured_m"] < 0  # the top is above the wire

    case = desk.act(desk.surveyed(case, hazard=True), "issue_hazard_notice", by="approver", language="en",
                    measures=["Plant shrubs under 2 m instead of poplars"])
    _, pdf = desk.document(case)
    text = api_pdf_text(pdf)

    assert f"{tree['measured_m']:.2f}m(vertical)" in text
    assert text.count(clause("en", "tree_clearance")) == 1
