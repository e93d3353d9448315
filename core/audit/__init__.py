"""The append-only audit log: who changed what, when, and what it was before and after."""
