"""Liveness (``/healthz``: the process serves) and readiness (``/readyz``: it can do its job).

A load balancer sends traffic only to ready instances: the database answers with
the schema this version needs, and the storage answers.
"""

from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec
from litestar import Request, Response, get


class Health(msgspec.Struct, frozen=True):
    status: Literal["ok"]


class Readiness(msgspec.Struct, frozen=True):
    status: Literal["ready", "not-ready"]
    database: bool
    storage: bool


ReadinessCheck = Callable[[], Awaitable[Readiness]]


@get("/healthz", tags=["health"], sync_to_thread=False)
def healthz() -> Health:
    """The process is up and serving requests."""
    return Health(status="ok")


@get("/readyz", tags=["health"], cache_control=None)
async def readyz(request: Request) -> Response[Readiness]:
    """Database reachable with current migrations, storage reachable: 200, else 503."""
    check: ReadinessCheck = request.app.state.readiness
    readiness = await check()
    status = 200 if readiness.status == "ready" else 503
    return Response(readiness, status_code=status, headers={"Cache-Control": "no-store"})


def readiness(
    database: Callable[[], Awaitable[bool]], storage: Callable[[], Awaitable[bool]]
) -> ReadinessCheck:
    async def check() -> Readiness:
        database_ok, storage_ok = await database(), await storage()
        ready = database_ok and storage_ok
        return Readiness("ready" if ready else "not-ready", database_ok, storage_ok)

    return check
