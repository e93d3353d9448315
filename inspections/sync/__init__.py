"""The mobile app's offline sync: devices and pull (h/syncpull), push with idempotency, merges,
conflicts and the out-of-order backlog (h/syncpush)."""
