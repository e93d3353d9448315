"""Screening: checking a planned activity's geometry against protection zones and clearances
under a rule set, with one explained finding per asset and rule."""
