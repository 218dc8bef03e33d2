"""Analytics events in the database: appended in batches, read by time window, deleted once
older than the retention period."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from client.core.events import AnyEvent
from server.background import every
from server.db.schema import analytics_events

log = logging.getLogger("medpress.analytics")
RETENTION_CHECK_S = 3600.0


class AnalyticsStore:
    def __init__(self, engine: AsyncEngine, retention_s: float) -> None:
        self.engine = engine
        self.retention_s = retention_s

    async def append(self, events: list[AnyEvent], received_at: float) -> None:
        rows = [{"received_at": received_at, "type": type(e).__struct_config__.tag,
                 "event": msgspec.to_builtins(e)} for e in events]
        if rows:
            async with self.engine.begin() as connection:
                await connection.execute(insert(analytics_events), rows)

    async def between(self, start: float, end: float) -> list[dict[str, Any]]:
        """Every event received in [start, end], as plain data with its ``received_at``."""
        query = (select(analytics_events.c.received_at, analytics_events.c.event)
                 .where(analytics_events.c.received_at.between(start, end))
                 .order_by(analytics_events.c.seq))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [{**row.event, "received_at": row.received_at} for row in rows]

    async def forget_older_than(self, cutoff: float) -> int:
        async with self.engine.begin() as connection:
            done = await connection.execute(delete(analytics_events).where(analytics_events.c.received_at < cutoff))
        return done.rowcount or 0


def retention(store: AnalyticsStore, interval: float = RETENTION_CHECK_S):
    """Lifespan: delete events older than the retention period, now and every hour."""

    async def forget() -> None:
        gone = await store.forget_older_than(time.time() - store.retention_s)
        if gone:
            log.info("analytics: %d events past their retention deleted", gone)

    return every(interval, forget, "analytics retention")
