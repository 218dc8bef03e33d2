"""The periodic sweep, run in the app's lifespan: expired and concatenated uploads (from the
registry, every ``interval``), and bytes no upload claims (listing the storage, hourly)."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
from litestar import Litestar

from server.tus.protocol import TusProtocol

log = logging.getLogger("medpress.tus")

ORPHAN_PASS_SECONDS = 3600.0  # the orphan pass lists the storage: hourly at most
STOP_SECONDS = 10.0  # at shutdown, how long a sweep under way may take to finish


def sweeper(
    tus: TusProtocol, interval: float
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan hook: sweep every ``interval`` seconds until shutdown."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        stop = anyio.Event()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_sweep_until, stop, tus, interval)
            try:
                yield
            finally:
                # A sweep under way finishes its database work (cancelling it midway could
                # strand a connection); only one that hangs is cancelled.
                stop.set()
                tasks.cancel_scope.deadline = anyio.current_time() + STOP_SECONDS

    return lifespan


async def _sweep_until(stop: anyio.Event, tus: TusProtocol, interval: float) -> None:
    last_orphan_pass = -ORPHAN_PASS_SECONDS
    while True:
        with anyio.move_on_after(interval):
            await stop.wait()
        if stop.is_set():
            return
        try:
            removed = await tus.sweep_expired()
            if removed:
                log.info("sweep removed %d uploads", removed)
            if anyio.current_time() - last_orphan_pass >= ORPHAN_PASS_SECONDS:
                last_orphan_pass = anyio.current_time()
                orphans = await tus.remove_orphans()
                if orphans:
                    log.info("sweep removed %d orphaned byte objects", orphans)
        except Exception:  # a failed sweep is retried next time; the server stays up
            log.exception("sweep failed")
