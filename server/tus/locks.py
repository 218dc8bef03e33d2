"""Per-upload locks: one request at a time may change an upload, across every instance.

A request that finds the upload busy waits up to ``wait`` seconds, then gets
423. A PATCH whose client has gone quiet (no body bytes for ``stale_after``
seconds, typically a phone whose connection died without a FIN) is asked to
yield: it stops reading, records what it made durable and lets go, so the
client's resumed request is not locked out by its own ghost. A PATCH that is
still receiving bytes is never interrupted.

Within a process an `anyio.Lock` per upload decides. With several instances,
a `SharedLocks` (PostgreSQL advisory locks, `server.db.pg_locks`) decides too,
once the local lock is held: a waiter on another instance asks the holder's
instance to release (tusd's request-to-release); that instance lets a stale
holder yield and announces it, and the waiter then waits a grace period more.
"""

import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import anyio

from server.background import spawn
from server.tus import errors
from server.tus.errors import TusError

POLL_SECONDS = 0.05
RELEASE_GRACE_SECONDS = 10.0


class SharedLocks(Protocol):
    """Locks every instance sees (implemented on PostgreSQL advisory locks)."""

    on_release_request: Callable[[str], None] | None
    on_yield: Callable[[str], None] | None
    on_lost: Callable[[set[str]], None] | None

    async def try_lock(self, name: str) -> bool: ...

    async def unlock(self, name: str) -> None: ...

    async def ask_release(self, name: str) -> None: ...

    async def announce_yield(self, name: str) -> None: ...

    def exclusive(self, name: str) -> AbstractAsyncContextManager[bool]: ...


class Hold:
    """The state of one upload's lock, shared by its holder and its waiters."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.lock = anyio.Lock()
        self.users = 0
        self.last_progress = clock()
        self.release_requested = False
        self.yield_announced_at = -1e9
        self._clock = clock
        self._read_scope: anyio.CancelScope | None = None

    def is_stale(self, stale_after: float) -> bool:
        return self.lock.locked() and self._clock() - self.last_progress >= stale_after

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
        shared: SharedLocks | None = None,
    ) -> None:
        self._wait = wait
        self._stale_after = stale_after
        self._clock = clock
        self._holds: dict[str, Hold] = {}
        self._yielding: dict[str, float] = {}  # upload id -> when another instance said so
        self._shared = shared
        if shared is not None:
            shared.on_release_request = self._release_requested_elsewhere
            shared.on_yield = self._yielding_elsewhere
            shared.on_lost = self._lost

    @asynccontextmanager
    async def hold(self, upload_id: str) -> AsyncIterator[Hold]:
        """Hold the upload's lock (waiting up to ``wait``, else 423)."""
        async with self._entered(upload_id) as hold:
            deadline = self._clock() + self._wait
            await self._acquire_local(hold, deadline)
            try:
                await self._acquire_shared(upload_id, deadline)
            except BaseException:
                hold.lock.release()
                raise
            async with self._held(upload_id, hold):
                yield hold

    def release_all(self) -> None:
        """Ask every holder to yield now (graceful shutdown)."""
        for hold in self._holds.values():
            if hold.lock.locked():
                hold.request_release()

    @asynccontextmanager
    async def try_hold(self, upload_id: str) -> AsyncIterator[bool]:
        """Hold the lock if it is free right now; yields whether it was."""
        async with self._entered(upload_id) as hold:
            if hold.lock.locked():
                yield False
                return
            hold.lock.acquire_nowait()
            try:
                shared_free = self._shared is None or await self._shared.try_lock(upload_id)
            except BaseException:
                hold.lock.release()
                raise
            if not shared_free:
                hold.lock.release()
                yield False
                return
            async with self._held(upload_id, hold):
                yield True

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """For work one instance at a time does (the sweep); yields whether this one may."""
        if self._shared is None:
            yield True
            return
        async with self._shared.exclusive(name) as mine:
            yield mine

    @asynccontextmanager
    async def _entered(self, upload_id: str) -> AsyncIterator[Hold]:
        hold = self._holds.setdefault(upload_id, Hold(self._clock))
        hold.users += 1
        try:
            yield hold
        finally:
            hold.users -= 1
            if hold.users == 0:
                del self._holds[upload_id]

    @asynccontextmanager
    async def _held(self, upload_id: str, hold: Hold) -> AsyncIterator[None]:
        hold.release_requested = False
        hold.last_progress = self._clock()
        try:
            yield
        finally:
            try:
                if self._shared is not None:
                    with anyio.CancelScope(shield=True):
                        await self._shared.unlock(upload_id)
            finally:
                hold.lock.release()

    async def _acquire_local(self, hold: Hold, deadline: float) -> None:
        try:
            hold.lock.acquire_nowait()
            return
        except anyio.WouldBlock:
            pass
        while True:
            if not hold.release_requested and hold.is_stale(self._stale_after):
                hold.request_release()
                deadline = max(deadline, self._clock() + RELEASE_GRACE_SECONDS)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TusError(errors.UPLOAD_LOCKED)
            with anyio.move_on_after(min(POLL_SECONDS, remaining)):
                await hold.lock.acquire()
                return

    async def _acquire_shared(self, upload_id: str, deadline: float) -> None:
        if self._shared is None or await self._shared.try_lock(upload_id):
            return
        await self._shared.ask_release(upload_id)
        while True:
            announced = self._yielding.get(upload_id)
            if announced is not None:
                deadline = max(deadline, announced + RELEASE_GRACE_SECONDS)
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise TusError(errors.UPLOAD_LOCKED)
            await anyio.sleep(min(POLL_SECONDS, remaining))
            if await self._shared.try_lock(upload_id):
                self._yielding.pop(upload_id, None)
                return

    def _release_requested_elsewhere(self, upload_id: str) -> None:
        hold = self._holds.get(upload_id)
        if hold is None or hold.release_requested or not hold.is_stale(self._stale_after):
            return
        hold.request_release()
        if self._shared is not None:
            spawn(self._shared.announce_yield(upload_id))

    def _lost(self, upload_ids: set[str]) -> None:
        """The cluster locks of these uploads are gone: their PATCHes stop, record, answer."""
        for upload_id in upload_ids:
            hold = self._holds.get(upload_id)
            if hold is not None and hold.lock.locked():
                hold.request_release()

    def _yielding_elsewhere(self, upload_id: str) -> None:
        self._yielding[upload_id] = self._clock()
        if len(self._yielding) > 10_000:  # announcements nobody waited for
            cutoff = self._clock() - RELEASE_GRACE_SECONDS
            self._yielding = {k: v for k, v in self._yielding.items() if v >= cutoff}
