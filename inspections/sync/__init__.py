"""Offline sync for the mobile app: registered devices and their tokens, pull (what a device holds,
kept in step page by page), GPS pings and latest positions, device clock skew (issue 9 §3)."""
