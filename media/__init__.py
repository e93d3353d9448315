"""Object storage (S3 API: MinIO in production, SeaweedFS on development machines)."""
