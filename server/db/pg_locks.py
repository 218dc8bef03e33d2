"""Cluster-wide per-upload locks on PostgreSQL advisory locks.

Several server instances sharing one database take an upload's lock with a session-level
``pg_try_advisory_lock`` on a 64-bit key derived from the upload id. Each instance keeps ONE
dedicated connection for them (not a pooled one: asyncpg's pool runs
``pg_advisory_unlock_all()`` when a connection goes back to the pool). A lock lasts until it is
unlocked or that connection ends; if the instance crashes, the kernel closes its socket and the
server drops the session at once, and the low TCP keepalives set on the session make the server
notice within seconds when the whole machine or its network is gone instead. Advisory locks are
per database, so every instance must use the same database (and no PgBouncer in transaction mode).

The same connection LISTENs on ``medpress_locks`` so an instance that wants an upload can ask its
holder to let go (``release:<id>``), and a holder can announce it is yielding (``yield:<id>``).
Payloads carry upload ids only. Notifications an instance sends itself are ignored.

Within one instance the locks are not re-entrant: ``try_lock`` of a name this instance already
holds returns False, so one ``unlock`` always frees the name.

If the connection is lost, every lock it held is gone (another instance may take them at once).
A heartbeat (``SELECT 1`` every second, with a timeout) notices within seconds, even on a
half-open socket, and hands the ids that were held to ``on_lost``, so their PATCHes stop; the
next call reconnects. (Progress is recorded compare-and-set, so a writer that lost its lock
cannot overwrite the new holder's.)

``exclusive(name)`` is for work that one instance of the cluster should do at a time (a sweep):
a transaction-level ``pg_try_advisory_xact_lock`` on a separate short-lived connection.
"""

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

logger = logging.getLogger("medpress.db")

CHANNEL = "medpress_locks"
_KEY_NAMESPACE = b"medpress/lock/"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
HEARTBEAT_SECONDS = 1.0
QUERY_TIMEOUT_SECONDS = 3.0


def advisory_key(name: str) -> int:
    """The signed 64-bit advisory-lock key for ``name``: stable across processes and versions."""
    digest = hashlib.blake2b(_KEY_NAMESPACE + name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _check_upload_id(name: str) -> str:
    if not _UPLOAD_ID.fullmatch(name):
        raise ValueError("notification payloads carry upload ids (32 lowercase hex digits) only")
    return name


class PgAdvisoryLocks:
    def __init__(self, dsn: str, *, keepalive_seconds: int = 2) -> None:
        self.on_release_request: Callable[[str], None] | None = None
        self.on_yield: Callable[[str], None] | None = None
        self.on_lost: Callable[[set[str]], None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._dsn = dsn
        self._keepalive = str(keepalive_seconds)
        self._connection: asyncpg.Connection | None = None
        self._started = False
        self._mutex = asyncio.Lock()  # asyncpg runs one operation at a time per connection
        self._held: set[str] = set()

    async def start(self) -> None:
        async with self._mutex:
            self._started = True
            await self._live_connection()
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        async with self._mutex:
            self._started = False
            self._held.clear()
            if self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()  # ending the session releases every lock it holds

    async def try_lock(self, name: str) -> bool:
        async with self._mutex:
            connection = await self._live_connection()
            if name in self._held:
                return False
            key = advisory_key(name)
            taken = bool(
                await connection.fetchval(
                    "SELECT pg_try_advisory_lock($1)", key, timeout=QUERY_TIMEOUT_SECONDS
                )
            )
            if taken:
                self._held.add(name)
            return taken

    async def unlock(self, name: str) -> None:
        async with self._mutex:
            connection = await self._live_connection()
            if name in self._held:
                self._held.discard(name)
                await connection.fetchval(
                    "SELECT pg_advisory_unlock($1)",
                    advisory_key(name),
                    timeout=QUERY_TIMEOUT_SECONDS,
                )

    async def ask_release(self, name: str) -> None:
        await self._notify("release:" + _check_upload_id(name))

    async def announce_yield(self, name: str) -> None:
        await self._notify("yield:" + _check_upload_id(name))

    def exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """True inside if this instance is the only one in ``exclusive(name)`` right now."""
        return self._exclusive(advisory_key(name))

    @asynccontextmanager
    async def _exclusive(self, key: int) -> AsyncIterator[bool]:
        connection = await self._connect()
        try:
            async with connection.transaction():  # the lock ends with the transaction
                yield bool(await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", key))
        finally:
            await connection.close()

    async def _notify(self, payload: str) -> None:
        async with self._mutex:
            connection = await self._live_connection()
            await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn,
            server_settings={
                "application_name": "medpress-locks",
                "tcp_keepalives_idle": self._keepalive,
                "tcp_keepalives_interval": self._keepalive,
                "tcp_keepalives_count": "3",
            },
        )

    async def _live_connection(self) -> asyncpg.Connection:
        """The lock connection, reconnecting if it was lost. Call with ``_mutex`` held."""
        if not self._started:
            raise RuntimeError("PgAdvisoryLocks is not started")
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        if self._connection is not None:
            self._lost("closed")
        connection = await self._connect()
        try:
            await connection.add_listener(CHANNEL, self._on_notification)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        return connection

    async def _beat(self) -> None:
        """Notice a lost (or silently half-open) lock connection within seconds."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                async with self._mutex:
                    connection = await self._live_connection()
                    await connection.fetchval("SELECT 1", timeout=QUERY_TIMEOUT_SECONDS)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                async with self._mutex:
                    self._lost(type(error).__name__)

    def _lost(self, why: str) -> None:
        """The session is gone, and every lock it held with it. Call with ``_mutex`` held."""
        held, self._held = self._held, set()
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None
        logger.warning(
            "advisory lock connection lost (%s); locks lost: %s",
            why,
            ", ".join(sorted(held)) or "none",
        )
        if held and self.on_lost is not None:
            self.on_lost(held)

    def _on_notification(
        self, connection: asyncpg.Connection, pid: int, channel: str, payload: str
    ) -> None:
        if pid == connection.get_server_pid():
            return  # sent by this instance
        kind, _, name = payload.partition(":")
        if kind not in ("release", "yield") or not _UPLOAD_ID.fullmatch(name):
            logger.warning("ignored a malformed advisory lock notification")
            return
        callback = self.on_release_request if kind == "release" else self.on_yield
        if callback is None:
            return
        try:
            callback(name)
        except Exception:
            logger.exception("advisory lock %s callback failed for upload %s", kind, name)
