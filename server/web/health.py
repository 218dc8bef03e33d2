"""Liveness probe."""

from typing import Literal

import msgspec
from litestar import get


class Health(msgspec.Struct, frozen=True):
    status: Literal["ok"]


@get("/healthz", tags=["health"], sync_to_thread=False)
def healthz() -> Health:
    """The process is up and serving requests."""
    return Health(status="ok")
