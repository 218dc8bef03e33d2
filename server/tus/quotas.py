"""Per-principal limits, so one device (or one stolen token) cannot fill the storage.

A principal may have at most ``max_active`` unfinished uploads under way (those
not yet expired), and may start at most ``max_bytes_per_day`` bytes of uploads
in any 24 hours (a deferred length counts once it is declared). Beyond either,
creation answers 429 with ``Retry-After``; nothing already stored is touched.
"""

import time
from collections.abc import Callable

from server.db.registry import Registry
from server.tus import errors
from server.tus.errors import TusError

DAY = 24 * 60 * 60.0


class Quotas:
    def __init__(
        self,
        registry: Registry,
        *,
        max_active: int,
        max_bytes_per_day: int,
        expiry: float | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._max_active = max_active
        self._max_bytes = max_bytes_per_day
        self._expiry = expiry
        self._clock = clock

    async def admit(self, owner: str, length: int, *, new_upload: bool) -> None:
        """Raise 429 if ``owner`` may not start ``length`` more bytes (in a new upload)."""
        now = self._clock()
        active_since = now - self._expiry if self._expiry is not None else 0.0
        usage = await self._registry.usage(
            owner, active_since=active_since, created_since=now - DAY
        )
        if new_upload and usage.active >= self._max_active:
            raise TusError(errors.TOO_MANY_UPLOADS)
        if usage.bytes + length > self._max_bytes:
            raise TusError(errors.DAILY_LIMIT_REACHED)
