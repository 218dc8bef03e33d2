"""Connecting to the database: SQLite in the data dir (embedded default) or PostgreSQL.

``--database-url postgresql://user:pass@host/db`` (asyncpg) lets several
instances share one registry; without it, ``<data dir>/medpress.db`` is used
with WAL and ``synchronous=FULL``, so a committed row survives a power cut.
SQLite has one writer at a time anyway: one pooled connection serialises the
process's statements instead of letting them fight over the write lock.
"""

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_FILE = "medpress.db"
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
)


# Query parameters may be patient data (metadata, case references): aiosqlite's DEBUG lines
# carry them, and so would SQLAlchemy's errors without ``hide_parameters``.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


class DatabaseUrlError(ValueError):
    """The database URL names something other than SQLite or PostgreSQL."""


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / SQLITE_FILE}"


def normalized_url(url: str) -> str:
    """``postgresql://…`` (as operators write it) → SQLAlchemy's asyncpg URL; SQLite → aiosqlite."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    raise DatabaseUrlError("The database URL must start with postgresql:// or sqlite://.")


def libpq_dsn(url: str) -> str:
    """The URL as asyncpg's own ``connect()`` takes it (for the lock connection)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def create_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30.0) -> AsyncEngine:
    url = normalized_url(url)
    if not is_postgres(url):
        engine = create_async_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=pool_timeout, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        hide_parameters=True,  # errors must not carry metadata or case references into logs
    )


def _sqlite_pragmas(connection: Any, _: Any) -> None:
    cursor = connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()
