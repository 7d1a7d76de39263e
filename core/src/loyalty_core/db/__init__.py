"""Database access: metadata, engines, tenant-scoped transactions, the embedded server."""
