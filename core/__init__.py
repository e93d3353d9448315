"""Cross-cutting foundation: settings, database, auth, audit, outbox and the Celery app."""
