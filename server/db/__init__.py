"""The database: upload registry, schema migrations, cluster-wide locks (SQLite | PostgreSQL)."""
