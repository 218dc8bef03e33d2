"""Running the app under uvicorn, with a shutdown that loses no byte a client sent.

On SIGTERM uvicorn stops accepting connections and waits for the open ones.
In-flight PATCHes keep receiving for ``shutdown_grace`` seconds; then they are
asked to yield (as a silent PATCH yields to its resumed client): each stops
reading, records the offset its bytes reached and answers it, and the app's
lifespan closes the database, which releases its locks. Only if that takes
longer than ``DRAIN_SECONDS`` more does uvicorn cancel what is left.
"""

import asyncio
from collections.abc import Callable

import uvicorn
from litestar import Litestar

from server.settings import Settings

DRAIN_SECONDS = 10.0


class _GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Callable[[], None], grace: float) -> None:
        super().__init__(config)
        self._drain = drain
        self._grace = grace

    async def shutdown(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        timer = asyncio.get_running_loop().call_later(self._grace, self._drain)
        try:
            await super().shutdown(sockets=sockets)
        finally:
            timer.cancel()


def serve(app: Litestar, settings: Settings) -> None:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's lines go through medpress's JSON, scrubbed handlers
        access_log=False,  # one access line per request, from server.logs.middleware
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.shutdown_grace + DRAIN_SECONDS,
    )
    _GracefulServer(config, app.state.tus.drain, settings.shutdown_grace).run()
