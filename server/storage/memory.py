"""In-memory storage for tests: the same contract as the filesystem backend."""

import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable

from server.storage.base import (
    ALL_CAPABILITIES,
    Capability,
    Checkpoint,
    Part,
    StaleOffsetError,
    StoreState,
    Verify,
    Written,
)

_READ_CHUNK = 64 * 1024


class MemoryStorage:
    def __init__(self, capabilities: frozenset[Capability] = ALL_CAPABILITIES) -> None:
        self.capabilities = capabilities
        self.blobs: dict[str, bytearray] = {}
        self.deployment: str | None = None
        self._changed: dict[str, float] = {}

    async def create(self, upload_id: str) -> StoreState:
        self.blobs[upload_id] = bytearray()
        self._changed[upload_id] = time.time()
        return {}

    async def write(
        self,
        upload_id: str,
        store: StoreState,
        offset: int,
        stream: AsyncIterable[bytes],
        *,
        checkpoint: Checkpoint,
        verify: Verify | None = None,
    ) -> Written:
        blob = self.blobs[upload_id]
        if offset > len(blob):
            raise StaleOffsetError(f"offset {offset} is past the stored bytes")
        del blob[offset:]
        received = bytearray()
        try:
            async for chunk in stream:
                received += chunk
            if verify is not None:
                verify()
        except BaseException:
            if verify is not None:
                received.clear()
            raise
        finally:
            blob += received
            self._changed[upload_id] = time.time()
            if received:
                await checkpoint(len(blob), store)
        return Written(len(blob), store)

    async def finish(self, upload_id: str, store: StoreState, length: int) -> StoreState:
        return store

    async def read(
        self, upload_id: str, store: StoreState, start: int, end: int
    ) -> AsyncIterator[bytes]:
        blob = self.blobs[upload_id]
        for position in range(start, end, _READ_CHUNK):
            yield bytes(blob[position : min(position + _READ_CHUNK, end)])

    async def delete(self, upload_id: str, store: StoreState) -> None:
        self.blobs.pop(upload_id, None)
        self._changed.pop(upload_id, None)

    async def concatenate(self, upload_id: str, parts: list[Part]) -> StoreState:
        self.blobs[upload_id] = bytearray(
            b"".join(self.blobs[part.id][: part.length] for part in parts)
        )
        self._changed[upload_id] = time.time()
        return {}

    async def claim(self, deployment_id: str) -> bool:
        self.deployment = self.deployment or deployment_id
        return self.deployment == deployment_id

    async def ping(self) -> None:
        return None

    async def remove_orphans(
        self, known: Callable[[list[str]], Awaitable[set[str]]], older_than: float
    ) -> int:
        old = [upload_id for upload_id, at in self._changed.items() if at < older_than]
        keep = await known(old)
        doomed = [upload_id for upload_id in old if upload_id not in keep]
        for upload_id in doomed:
            await self.delete(upload_id, {})
        return len(doomed)
