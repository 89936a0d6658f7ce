"""Storage: tables, queries, the delivery queue and migrations (SQLite or PostgreSQL)."""
