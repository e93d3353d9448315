"""Protection zones (电力设施保护区): derived from lines by the default rule set, or drawn by an
authority (manual zones), plus the built-up areas that switch a line to the densely-built rule."""
