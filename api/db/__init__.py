"""MySQL access: table definitions, the async engine and start-up migrations."""
