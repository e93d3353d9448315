"""Storage past one server: a PostgreSQL read replica, replicated object storage."""
