"""The analytics API.

- ``POST /api/analytics``: ``{"events": [...]}`` from the page (``navigator.sendBeacon`` too).
  Decoded strictly into ``client.core.events`` (an unknown field or a wrong type is a 400
  naming where, never repeating the value), at most 500 events and 256 KiB a batch, and 30
  batches a minute per client (429 with Retry-After beyond; counted per instance).
- ``GET /api/analytics/summary?hours=24`` (admin): the dashboard's figures.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.params import Parameter

from client.core.events import decode_batch
from server.analytics.store import AnalyticsStore
from server.analytics.summary import summary
from server.auth.admin import require_admin
from server.auth.principal import Principals
from server.validation import describe

MAX_BODY = 256 * 1024
BATCHES_PER_MINUTE = 30


class RateLimit:
    """A token bucket per client: ``capacity`` batches, refilled evenly over a minute."""

    def __init__(self, capacity: int = BATCHES_PER_MINUTE) -> None:
        self.capacity = capacity
        self.buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, last refill)

    def take(self, client: str, now: float) -> float:
        """0 if the batch may go in, else the seconds until it may."""
        tokens, last = self.buckets.get(client, (float(self.capacity), now))
        tokens = min(self.capacity, tokens + (now - last) * self.capacity / 60)
        if tokens < 1:
            self.buckets[client] = (tokens, now)
            return (1 - tokens) * 60 / self.capacity
        self.buckets[client] = (tokens - 1, now)
        if len(self.buckets) > 100_000:  # forget the quietest clients rather than grow for ever
            self.buckets = dict(sorted(self.buckets.items(), key=lambda kv: kv[1][1])[-50_000:])
        return 0.0


@post("/", status_code=202)
async def receive(request: Request, principals: NamedDependency[Principals],
                  store: NamedDependency[AnalyticsStore], limit: NamedDependency[RateLimit]) -> Response[Any]:
    principal = principals.resolve_principal(request)
    client = f"principal:{principal.id}" if principal else f"address:{request.client.host if request.client else '-'}"
    wait = limit.take(client, time.monotonic())
    if wait:
        return Response({"detail": "Too many analytics batches; try again later."}, status_code=429,
                        headers={"Retry-After": str(max(1, round(wait)))})
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ClientException(f"An analytics batch may be at most {MAX_BODY // 1024} KiB.", status_code=413)
    try:
        batch = decode_batch(body)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise ClientException(f"Invalid analytics batch: {describe(error)}") from None
    await store.append(batch.events, time.time())
    return Response({"accepted": len(batch.events)}, status_code=202)


@get("/summary")
async def summary_of(request: Request, principals: NamedDependency[Principals],
                     store: NamedDependency[AnalyticsStore],
                     hours: Annotated[float, Parameter(gt=0, le=24 * 366)] = 24) -> dict[str, Any]:
    require_admin(request, principals, "The analytics summary")
    end = time.time()
    start = end - hours * 3600
    return summary(await store.between(start, end), start, end)


def create_analytics_router(store: AnalyticsStore) -> Router:
    limit = RateLimit()

    def provide_store() -> AnalyticsStore:
        return store

    def provide_limit() -> RateLimit:
        return limit

    return Router(
        path="/api/analytics",
        route_handlers=[receive, summary_of],
        dependencies={"store": Provide(provide_store, sync_to_thread=False),
                      "limit": Provide(provide_limit, sync_to_thread=False)},
        tags=["analytics"],
    )
