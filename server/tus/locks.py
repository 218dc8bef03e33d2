"""Per-upload locks: one request at a time may change an upload.

A request that finds the upload busy waits up to ``wait`` seconds, then gets
423. A PATCH whose client has gone quiet (no body bytes for ``stale_after``
seconds, typically a phone whose connection died without a FIN) is asked to
yield: it stops reading, records what it made durable and lets go, so the
client's resumed request is not locked out by its own ghost. A PATCH that is
still receiving bytes is never interrupted.
"""

import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio

from server.tus import errors
from server.tus.errors import TusError

POLL_SECONDS = 0.05
RELEASE_GRACE_SECONDS = 10.0


class Hold:
    """The state of one upload's lock, shared by its holder and its waiters."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.lock = anyio.Lock()
        self.users = 0
        self.last_progress = clock()
        self.release_requested = False
        self._clock = clock
        self._read_scope: anyio.CancelScope | None = None

    def request_release(self) -> None:
        self.release_requested = True
        if self._read_scope is not None:
            self._read_scope.cancel()

    async def interruptible(self, body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """``body``, ending early (not failing) if a waiter asks this holder to yield."""
        iterator = aiter(body)
        while not self.release_requested:
            with anyio.CancelScope() as scope:
                self._read_scope = scope
                try:
                    chunk = await anext(iterator)
                except StopAsyncIteration:
                    return
                finally:
                    self._read_scope = None
            if scope.cancelled_caught:
                return
            self.last_progress = self._clock()
            yield chunk


class UploadLocks:
    def __init__(
        self,
        wait: float = 0.0,
        stale_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wait = wait
        self._stale_after = stale_after
        self._clock = clock
        self._holds: dict[str, Hold] = {}

    def is_held(self, upload_id: str) -> bool:
        hold = self._holds.get(upload_id)
        return hold is not None and hold.lock.locked()

    @asynccontextmanager
    async def hold(self, upload_id: str) -> AsyncIterator[Hold]:
        hold = self._holds.setdefault(upload_id, Hold(self._clock))
        hold.users += 1
        try:
            await self._acquire(hold)
            hold.release_requested = False
            hold.last_progress = self._clock()
            try:
                yield hold
            finally:
                hold.lock.release()
        finally:
            hold.users -= 1
            if hold.users == 0:
                del self._holds[upload_id]

    async def _acquire(self, hold: Hold) -> None:
        try:
            hold.lock.acquire_nowait()
            return
        except anyio.WouldBlock:
            pass
        deadline = self._clock() + self._wait
        while True:
            if (
                not hold.release_requested
                and self._clock() - hold.last_progress >= self._stale_after
            ):
                hold.request_release()
                deadline = max(deadline, self._clock() + RELEASE_GRACE_SECONDS)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TusError(errors.UPLOAD_LOCKED)
            with anyio.move_on_after(min(POLL_SECONDS, remaining)):
                await hold.lock.acquire()
                return
