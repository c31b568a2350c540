"""Storage: one interface per data type, with a SQL implementation for SQLite and PostgreSQL."""
