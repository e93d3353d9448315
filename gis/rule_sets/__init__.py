"""Rule sets: the legal distances that protection zones and screenings apply, kept as data.

A rule set (code + version) is loaded from a JSON file under `gis/data/rule_sets/` and stored
whole and unchanged, so a screening made with version X can always be re-explained with X.
"""
