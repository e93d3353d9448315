"""Route planning for inspections and meter reading (issue 12): not built yet. It will be a domain
like `cases/`: a package with a `domain.py`, listed in `gridwarden/domains.py`."""
