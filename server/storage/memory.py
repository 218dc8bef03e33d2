"""In-memory storage for tests: same contract as the filesystem backend."""

from collections.abc import AsyncIterable, AsyncIterator

import msgspec

from server.storage.base import Capability, UploadInfo
from server.storage.ids import is_upload_id, new_upload_id

_READ_CHUNK = 64 * 1024


class MemoryUpload:
    def __init__(self, info: UploadInfo) -> None:
        self._info = info
        self._data = bytearray()

    @property
    def id(self) -> str:
        return self._info.id

    async def info(self) -> UploadInfo:
        return self._info

    async def write_chunk(self, offset: int, stream: AsyncIterable[bytes]) -> int:
        del self._data[offset:]
        try:
            async for chunk in stream:
                self._data += chunk
        finally:
            self._info = msgspec.structs.replace(self._info, offset=len(self._data))
        return self._info.offset

    async def finish(self) -> None:
        self._info = msgspec.structs.replace(self._info, finished=True)

    async def read(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._data), _READ_CHUNK):
            yield bytes(self._data[start : start + _READ_CHUNK])


class MemoryStorage:
    capabilities = frozenset({Capability.CREATION})

    def __init__(self) -> None:
        self._uploads: dict[str, MemoryUpload] = {}

    async def create(self, length: int, metadata: dict[str, str], owner: str) -> MemoryUpload:
        info = UploadInfo(id=new_upload_id(), length=length, owner=owner, metadata=dict(metadata))
        upload = self._uploads[info.id] = MemoryUpload(info)
        return upload

    async def get(self, upload_id: str) -> MemoryUpload | None:
        if not is_upload_id(upload_id):
            return None
        return self._uploads.get(upload_id)
