"""Background work: fire-and-forget tasks kept referenced until done, and loops that run
while the app does."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

log = logging.getLogger("medpress")

_running: set[asyncio.Task[Any]] = set()


def spawn(work: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _running.add(task)
    task.add_done_callback(_running.discard)


def every(
    seconds: float,
    step: Callable[[], Awaitable[None]],
    what: str,
    *,
    first: Callable[[], Awaitable[None]] | None = None,
    last: Callable[[], Awaitable[None]] | None = None,
):
    """A Litestar lifespan that runs ``step`` every ``seconds`` while the app runs (after
    ``first``, awaited before the app serves; ``last`` runs at shutdown). A failing step is
    logged by its type only and tried again at the next turn; shutdown cancels the loop and
    waits for it."""

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    await step()
                except Exception as error:  # noqa: BLE001 (a passing failure: try again)
                    log.warning("%s failed: %s", what, type(error).__name__)
                await asyncio.sleep(seconds)

        if first is not None:
            await first()
        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            if last is not None:
                await last()

    return lifespan
