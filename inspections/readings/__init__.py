"""Meter reading (DOMAIN.md §5): reading books per transformer area, reading rounds, readings with
their validation against the previous one, anomalies and the follow-up and re-read tasks they open."""
