"""Python's side of the feature flags: the state from ``GET /api/flags``, polled with ETag
(a flip reaches an open page within seconds), the last one kept in ``localStorage`` for
offline use, and this installation's anonymous id (random, the flags' stickiness)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import js

from client.browser.bridge import js_object

INSTALLATION_KEY = "medpress.installation"
CACHE_KEY = "medpress.flags"
POLL_S = 4.0


def installation_id() -> str:
    """A random id for this browser profile: the same across reloads, never a name."""
    found = _read(INSTALLATION_KEY)
    if not found:
        found = str(js.crypto.randomUUID())
        _write(INSTALLATION_KEY, found)
    return found


class FlagFeed:
    def __init__(self, on_change: Callable[[dict[str, Any] | None], None], poll_s: float = POLL_S) -> None:
        self.on_change = on_change
        self.poll_s = poll_s
        self.state: dict[str, Any] | None = None
        self.etag: str | None = None
        cached = _read(CACHE_KEY)
        if cached:
            try:
                kept = json.loads(cached)
                self.state, self.etag = kept["state"], kept["etag"]
            except (ValueError, KeyError, TypeError):
                pass  # a damaged cache is no cache
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._poll())

    async def fetch(self) -> None:
        """Ask the server once; a new state is kept and announced, 304 and failures change nothing."""
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            response = await js.fetch("/api/flags", js_object({"headers": headers, "cache": "no-store"}))
            if response.status != 200:
                return
            state = json.loads(str(await response.text()))
        except Exception:  # noqa: BLE001 (offline or a server hiccup: keep the last state)
            return
        self.state, self.etag = state, str(response.headers.get("ETag") or "")
        _write(CACHE_KEY, json.dumps({"state": state, "etag": self.etag}))
        self.on_change(self.state)

    async def _poll(self) -> None:
        while True:
            await self.fetch()
            await asyncio.sleep(self.poll_s)


def _read(key: str) -> str | None:
    try:
        found = js.localStorage.getItem(key)  # a str, or JS null (not None) when absent
    except Exception:  # noqa: BLE001 (storage disabled)
        return None
    return found if isinstance(found, str) else None


def _write(key: str, value: str) -> None:
    with contextlib.suppress(Exception):  # storage disabled or full: the page works without it
        js.localStorage.setItem(key, value)
