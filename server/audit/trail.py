"""Recording bypasses: an append-only trail in the database, and a staff notification.

A bypass is an upload whose metadata says ``bypass=1`` ("Send original now"), or whose
priority or reason is ``emergency``. Its entry holds the time, the principal, the upload
id, a reason code from a fixed set, the priority and the size: never a file name or any
other metadata value. The code only inserts; nothing updates or deletes an entry.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.registry import UploadInfo
from server.db.schema import audit

REASONS = frozenset(
    {"bypass", "emergency", "small-file", "little-gain", "below-floor", "compression-failed"}
)
PRIORITIES = frozenset({"routine", "urgent", "emergency"})


class AuditEntry(msgspec.Struct, frozen=True):
    at: float
    principal: str
    upload_id: str
    reason: str
    priority: Literal["routine", "urgent", "emergency", "unknown"]
    size: int | None

    @property
    def emergency(self) -> bool:
        return self.priority == "emergency" or self.reason == "emergency"


def bypass_entry(info: UploadInfo, now: float) -> AuditEntry | None:
    """The audit entry an upload calls for, or None if it is not a bypass."""
    meta = info.metadata
    reason, priority = meta.get("reason", ""), meta.get("priority", "")
    if meta.get("bypass") != "1" and "emergency" not in (reason, priority):
        return None
    return AuditEntry(
        at=now,
        principal=info.owner,
        upload_id=info.id,
        reason=reason if reason in REASONS else "other",
        priority=priority if priority in PRIORITIES else "unknown",  # type: ignore[arg-type]
        size=info.length,
    )


class AuditTrail:
    """Records bypasses as uploads are created (the tus layer's ``on_created`` hook)."""

    def __init__(
        self,
        engine: AsyncEngine,
        notify: Callable[[AuditEntry], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._notify = notify
        self._clock = clock

    async def upload_created(self, info: UploadInfo) -> None:
        entry = bypass_entry(info, self._clock())
        if entry is None:
            return
        async with self._engine.begin() as connection:
            await connection.execute(insert(audit).values(msgspec.structs.asdict(entry)))
        if entry.emergency and self._notify is not None:
            await self._notify(entry)

    async def entries(self, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first."""
        query = select(audit).order_by(audit.c.seq.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = await connection.execute(query)
            return [msgspec.convert(row, AuditEntry, from_attributes=True) for row in rows]
