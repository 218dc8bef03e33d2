"""In-memory storage for tests: same contract as the filesystem backend."""

import time
from collections.abc import AsyncIterable, AsyncIterator

import msgspec

from server.storage.base import (
    ALL_CAPABILITIES,
    Capability,
    NewUpload,
    StaleOffsetError,
    UploadInfo,
    Verify,
)
from server.storage.ids import is_upload_id, new_upload_id

_READ_CHUNK = 64 * 1024


class MemoryUpload:
    def __init__(self, info: UploadInfo) -> None:
        self._info = info
        self._data = bytearray()
        self.gone = False

    @property
    def id(self) -> str:
        return self._info.id

    async def info(self) -> UploadInfo:
        if self.gone:  # like a deleted info file
            raise FileNotFoundError(self._info.id)
        return self._info

    async def write_chunk(
        self, offset: int, stream: AsyncIterable[bytes], *, verify: Verify | None = None
    ) -> int:
        if offset != self._info.offset:
            raise StaleOffsetError(f"offset {offset} is not the recorded {self._info.offset}")
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
            self._data += received
            self._save(offset=len(self._data))
        return self._info.offset

    async def declare_length(self, length: int) -> None:
        self._save(length=length)

    async def finish(self) -> None:
        self._save(finished=True)

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        stop = len(self._data) if end is None else end
        for position in range(start, stop, _READ_CHUNK):
            yield bytes(self._data[position : min(position + _READ_CHUNK, stop)])

    def _save(self, **changes: object) -> None:
        self._info = msgspec.structs.replace(self._info, updated_at=time.time(), **changes)


class MemoryStorage:
    def __init__(self, capabilities: frozenset[Capability] = ALL_CAPABILITIES) -> None:
        self.capabilities = capabilities
        self._uploads: dict[str, MemoryUpload] = {}

    async def create(self, new: NewUpload) -> MemoryUpload:
        info = UploadInfo.new(new_upload_id(), new, time.time())
        upload = self._uploads[info.id] = MemoryUpload(info)
        return upload

    async def get(self, upload_id: str) -> MemoryUpload | None:
        if not is_upload_id(upload_id):
            return None
        return self._uploads.get(upload_id)

    async def terminate(self, upload_id: str) -> None:
        upload = self._uploads.pop(upload_id, None)
        if upload is not None:
            upload.gone = True

    async def list_ids(self) -> AsyncIterator[str]:
        for upload_id in list(self._uploads):
            yield upload_id
