"""Filesystem storage: ``<root>/<id>`` holds the bytes, ``<root>/<id>.info`` the state.

- The info file is JSON, replaced atomically (temp file, fsync, ``os.replace``).
- The data file is fsynced before a new offset is written to the info file, so
  an acknowledged offset is always durable. Bytes past the recorded offset (from
  a write that never got acknowledged) are truncated by the next write.
- Request chunks are batched to about 1 MiB and written in a worker thread, so
  file I/O does not stall the event loop.
- Only upload ids (32 hex chars) ever become part of a path; metadata never does.
"""

import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio.to_thread
import msgspec

from server.storage.base import Capability, UploadInfo
from server.storage.ids import is_upload_id, new_upload_id

BATCH_SIZE = 1024 * 1024
_encode_info = msgspec.json.Encoder().encode
_decode_info = msgspec.json.Decoder(UploadInfo).decode


class FilesystemUpload:
    def __init__(self, root: Path, upload_id: str) -> None:
        self._id = upload_id
        self._data_path = root / upload_id
        self._info_path = root / f"{upload_id}.info"

    @property
    def id(self) -> str:
        return self._id

    async def info(self) -> UploadInfo:
        return _decode_info(await anyio.to_thread.run_sync(self._info_path.read_bytes))

    async def write_chunk(self, offset: int, stream: AsyncIterable[bytes]) -> int:
        info = await self.info()
        writer = await anyio.to_thread.run_sync(_BatchedWriter.open, self._data_path, offset)
        durable = 0
        try:
            try:
                async for chunk in stream:
                    if writer.add(chunk):
                        await anyio.to_thread.run_sync(writer.write_batch)
            finally:
                await anyio.to_thread.run_sync(writer.write_batch_and_sync)
                durable = writer.written
        finally:
            await anyio.to_thread.run_sync(writer.close)
            if durable:
                await self._save(msgspec.structs.replace(info, offset=offset + durable))
        return offset + durable

    async def finish(self) -> None:
        info = await self.info()
        if not info.finished:
            await self._save(msgspec.structs.replace(info, finished=True))

    async def read(self) -> AsyncIterator[bytes]:
        remaining = (await self.info()).offset
        handle = await anyio.to_thread.run_sync(self._data_path.open, "rb")
        try:
            while remaining > 0:
                chunk = await anyio.to_thread.run_sync(handle.read, min(BATCH_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def _save(self, info: UploadInfo) -> None:
        await anyio.to_thread.run_sync(_write_atomically, self._info_path, _encode_info(info))


class FilesystemStorage:
    capabilities = frozenset({Capability.CREATION})

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def create(self, length: int, metadata: dict[str, str], owner: str) -> FilesystemUpload:
        info = UploadInfo(id=new_upload_id(), length=length, owner=owner, metadata=dict(metadata))
        await anyio.to_thread.run_sync(self._create_files, info)
        return FilesystemUpload(self._root, info.id)

    async def get(self, upload_id: str) -> FilesystemUpload | None:
        if not is_upload_id(upload_id):
            return None
        upload = FilesystemUpload(self._root, upload_id)
        exists = await anyio.to_thread.run_sync((self._root / f"{upload_id}.info").is_file)
        return upload if exists else None

    def _create_files(self, info: UploadInfo) -> None:
        os.close(os.open(self._root / info.id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _write_atomically(self._root / f"{info.id}.info", _encode_info(info))


class _BatchedWriter:
    """Blocking half of a chunk write; each method runs in a worker thread."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._batch = bytearray()
        self.written = 0

    @classmethod
    def open(cls, path: Path, offset: int) -> "_BatchedWriter":
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd)

    def add(self, chunk: bytes) -> bool:
        """Buffer ``chunk``; true when a full batch is ready to write."""
        self._batch += chunk
        return len(self._batch) >= BATCH_SIZE

    def write_batch(self) -> None:
        batch, self._batch = self._batch, bytearray()
        _write_all(self._fd, batch)
        self.written += len(batch)

    def write_batch_and_sync(self) -> None:
        self.write_batch()
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
