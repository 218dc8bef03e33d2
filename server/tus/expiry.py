"""The periodic sweep that removes expired unfinished uploads, run in the app's lifespan."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
from litestar import Litestar

from server.tus.protocol import TusProtocol

log = logging.getLogger("medpress.tus")


def sweeper(
    tus: TusProtocol, interval: float
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan hook: sweep every ``interval`` seconds until shutdown."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_sweep_forever, tus, interval)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()

    return lifespan


async def _sweep_forever(tus: TusProtocol, interval: float) -> None:
    while True:
        await anyio.sleep(interval)
        try:
            removed = await tus.sweep_expired()
        except Exception:  # a failed sweep is retried next time; the server stays up
            log.exception("sweep for expired uploads failed")
        else:
            if removed:
                log.info("sweep removed %d expired uploads", removed)
