"""The flag state in force: one row in the database, shared by every instance, refreshed
from its source and cached in memory.

Sources: a file in the data dir (``flags.json``, or ``flags.toml`` of the same shape for
hand editing; reloaded when it changes), or an Unleash server's client API (``--flags-url``
and a token; polled with ETag). An admin may also put a new state over the API; it is
written to the database and to ``flags.json``, so hand editing goes on from it. A
definition that does not validate is refused with the path of the field at fault, and the
last good state stays in force. Without any definition, medpress's defaults apply
(``defaults.json``: compression on for everyone, kill switch off).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.background import every
from server.db.schema import flags
from server.flags.definitions import InvalidFlags, etag, parse, validate

log = logging.getLogger("medpress.flags")

DEFAULTS = Path(__file__).with_name("defaults.json")


class FlagStore:
    def __init__(self, engine: AsyncEngine, data_dir: Path, *, unleash_url: str | None = None,
                 unleash_token: str | None = None) -> None:
        self.engine = engine
        self.json_path = data_dir / "flags.json"
        self.toml_path = data_dir / "flags.toml"
        self.unleash_url = unleash_url.rstrip("/") if unleash_url else None
        self.unleash_token = unleash_token
        self.state: dict[str, Any] = parse(DEFAULTS.read_bytes())
        self.etag = etag(self.state)
        self.origin = "defaults"
        self.problem: str | None = None  # why the source's latest definition was refused
        self._file_seen: tuple[int, int] | None = None
        self._remote_etag: str | None = None

    # Reading.

    async def refresh(self) -> None:
        """Take up the state in the database if another instance (or this one) changed it."""
        async with self.engine.connect() as connection:
            row = (await connection.execute(
                select(flags.c.state, flags.c.etag, flags.c.origin).where(flags.c.singleton == 1)
            )).first()
        if row is not None and row.etag != self.etag:
            self.state, self.etag, self.origin = json.loads(row.state), row.etag, row.origin

    async def _updated_at(self) -> float:
        async with self.engine.connect() as connection:
            found = await connection.scalar(select(flags.c.updated_at).where(flags.c.singleton == 1))
        return float(found or 0.0)

    # Writing.

    async def put(self, state: dict[str, Any], origin: str) -> None:
        """Validate and put ``state`` in force for every instance. Raises InvalidFlags."""
        validate(state)
        tag = etag(state)
        values = {"state": json.dumps(state), "etag": tag, "origin": origin, "updated_at": time.time()}
        async with self.engine.begin() as connection:
            updated = await connection.execute(flags.update().where(flags.c.singleton == 1).values(**values))
            if updated.rowcount == 0:
                await connection.execute(flags.insert().values(singleton=1, **values))
        self.state, self.etag, self.origin = state, tag, origin

    async def put_from_admin(self, state: dict[str, Any]) -> None:
        """An admin's edit: in force at once, and written to ``flags.json`` for hand editing."""
        if self.unleash_url:
            raise InvalidFlags("Flags come from the Unleash server here: change them there.")
        await self.put(state, "api")
        self.problem = None
        try:
            self.json_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.json_path.with_suffix(".json.tmp")
            temporary.write_text(json.dumps(state, indent=2) + "\n")
            os.replace(temporary, self.json_path)
        except OSError as error:  # in force all the same (the database holds it)
            log.warning("flags.json could not be written: %s", type(error).__name__)
        self._file_seen = _stamp(self.json_path)

    # Sources.

    async def poll_source(self, client: httpx.AsyncClient | None = None) -> None:
        """Take up a changed file, or the Unleash server's latest state."""
        if self.unleash_url:
            if client is not None:
                await self._poll_unleash(client)
            return
        path = self.json_path if self.json_path.exists() else self.toml_path
        stamp = _stamp(path)
        if stamp is None or stamp == self._file_seen:
            return
        self._file_seen = stamp
        if stamp[0] / 1e9 <= await self._updated_at():
            return  # older than the state in force (an admin's edit, perhaps on another instance)
        try:
            state = parse(path.read_bytes(), toml=path.suffix == ".toml")
        except InvalidFlags as refused:
            self.problem = f"{path.name}: {refused}"
            log.warning("flag definitions refused, the last good state stays: %s", self.problem)
            return
        self.problem = None
        await self.refresh()
        if etag(state) != self.etag:
            await self.put(state, "file")
            log.info("flag definitions taken up from %s", path.name)

    async def _poll_unleash(self, client: httpx.AsyncClient) -> None:
        headers = {"Authorization": self.unleash_token or ""}
        if self._remote_etag:
            headers["If-None-Match"] = self._remote_etag
        try:
            response = await client.get(f"{self.unleash_url}/api/client/features", headers=headers)
        except httpx.HTTPError as error:
            log.warning("the Unleash server did not answer (%s); the last good state stays",
                        type(error).__name__)
            return
        if response.status_code == 304:
            return
        if response.status_code != 200:
            log.warning("the Unleash server answered %s; the last good state stays", response.status_code)
            return
        try:
            state = parse(response.content)
        except InvalidFlags as refused:
            self.problem = f"Unleash: {refused}"
            log.warning("flag definitions refused, the last good state stays: %s", self.problem)
            return
        self.problem = None
        self._remote_etag = response.headers.get("etag")
        await self.refresh()
        if etag(state) != self.etag:
            await self.put(state, "unleash")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_mtime_ns, found.st_size


def flag_watcher(store: FlagStore, *, interval: float = 1.0, unleash_interval: float = 5.0):
    """Lifespan: keep the state fresh (the database every ``interval`` seconds, the source
    every ``interval`` (file) or ``unleash_interval`` (Unleash))."""
    running: dict[str, Any] = {}

    async def first() -> None:
        running.update(client=httpx.AsyncClient(timeout=10), polled=0.0)
        await store.refresh()
        await store.poll_source()  # the file's state (or the defaults) before the first request

    async def step() -> None:
        if not store.unleash_url or time.monotonic() - running["polled"] >= unleash_interval:
            await store.poll_source(running["client"])
            running["polled"] = time.monotonic()
        await store.refresh()

    async def last() -> None:
        await running["client"].aclose()

    return every(interval, step, "flag refresh", first=first, last=last)
