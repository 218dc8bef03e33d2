"""The database as the app uses it: engine, registry and (PostgreSQL) shared locks.

`Database.open` is called in the app's lifespan: on the embedded SQLite it
applies migrations itself; on PostgreSQL it refuses to serve an outdated schema
(run ``medpress migrate`` once per upgrade, before starting the instances).
"""

import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.db import migrate
from server.db.engine import create_engine, is_postgres, libpq_dsn, normalized_url
from server.db.registry import SqlRegistry
from server.tus.locks import SharedLocks

log = logging.getLogger("medpress.db")


class SchemaOutdatedError(RuntimeError):
    """PostgreSQL's schema is not the one this version needs."""


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 30.0) -> None:
        self.url = normalized_url(url)
        self.engine = create_engine(self.url, pool_size=pool_size, pool_timeout=pool_timeout)
        self.registry = SqlRegistry(self.engine)
        self.shared_locks: SharedLocks | None = None
        if is_postgres(self.url):
            from server.db.pg_locks import PgAdvisoryLocks

            self.shared_locks = PgAdvisoryLocks(libpq_dsn(self.url))

    @property
    def kind(self) -> str:
        return "postgresql" if is_postgres(self.url) else "sqlite"

    async def open_for_migration(self) -> None:
        """Only what migrating needs (the SQLite file's directory)."""
        if self.kind == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def open(self) -> None:
        await self.open_for_migration()
        if self.kind == "sqlite":
            await migrate.upgrade(self.engine)
        elif not await migrate.is_current(self.engine):
            raise SchemaOutdatedError(
                "The database schema is not current: run `medpress migrate --database-url …` "
                "before starting the server."
            )
        if self.shared_locks is not None:
            await self.shared_locks.start()  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self.shared_locks is not None:
            await self.shared_locks.close()  # type: ignore[attr-defined]
        await self.engine.dispose()

    async def is_ready(self) -> bool:
        """Reachable, and its schema is the one this version needs."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return await migrate.is_current(self.engine)
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            log.warning("database not ready: %s", type(error).__name__)
            return False
