"""Photo evidence from the field (issue 11; DOMAIN.md §5, §6): direct-to-storage uploads,
verification by the worker, location and time checks against the linked record, derived images,
and a tamper-evident custody chain per record. The S3 client every domain uses is `core.storage`."""
