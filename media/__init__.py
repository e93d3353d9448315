"""Photo evidence from the field (issue 11): not built yet. The S3 client every domain uses is
`core.storage`."""
