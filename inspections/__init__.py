"""Field work and offline sync (issue 9): not built yet. It will be a domain like `cases/`: a
package with a `domain.py`, listed in `gridwarden/domains.py`; its site visits start from
`cases.visits`."""
