"""Filesystem storage: ``<root>/<id>`` holds the bytes, ``<root>/<id>.info`` the state.

- The info file is JSON, replaced atomically (temp file, fsync, ``os.replace``,
  fsync of the directory).
- The data file is fsynced before a new offset is written to the info file, so
  a recorded (and so acknowledged) offset always covers durable bytes. Bytes
  past the recorded offset (from a write cut short by a crash) are never read
  and are truncated by the next write.
- A long PATCH records its progress every ``checkpoint_seconds`` (after an
  fsync), so a crash loses at most that much of it.
- Request chunks are batched to about 1 MiB and written in a worker thread, so
  file I/O does not stall the event loop.
- Only upload ids (32 hex chars) ever become part of a path; metadata never does.
"""

import os
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread
import msgspec

from server.storage.base import (
    ALL_CAPABILITIES,
    NewUpload,
    StaleOffsetError,
    UploadInfo,
    Verify,
)
from server.storage.ids import is_upload_id, new_upload_id

BATCH_SIZE = 1024 * 1024
DEFAULT_CHECKPOINT_SECONDS = 2.0
_INFO_SUFFIX = ".info"
_encode_info = msgspec.json.Encoder().encode
_decode_info = msgspec.json.Decoder(UploadInfo).decode


class FilesystemUpload:
    def __init__(self, root: Path, upload_id: str, checkpoint_seconds: float) -> None:
        self._id = upload_id
        self._data_path = root / upload_id
        self._info_path = root / f"{upload_id}{_INFO_SUFFIX}"
        self._checkpoint_seconds = checkpoint_seconds

    @property
    def id(self) -> str:
        return self._id

    async def info(self) -> UploadInfo:
        return _decode_info(await anyio.to_thread.run_sync(self._info_path.read_bytes))

    async def write_chunk(
        self, offset: int, stream: AsyncIterable[bytes], *, verify: Verify | None = None
    ) -> int:
        info = await self.info()
        if offset != info.offset:
            raise StaleOffsetError(f"offset {offset} is not the recorded {info.offset}")
        writer = await anyio.to_thread.run_sync(_BatchedWriter.open, self._data_path, offset)
        recorded = offset
        last_checkpoint = time.monotonic()
        try:
            async for chunk in stream:
                writer.add(chunk)
                due = (
                    verify is None
                    and time.monotonic() - last_checkpoint >= self._checkpoint_seconds
                )
                if writer.batch_full or due:
                    await anyio.to_thread.run_sync(writer.write_batch)
                if due and writer.written:
                    await anyio.to_thread.run_sync(writer.sync)
                    recorded = offset + writer.written
                    info = await self._save(msgspec.structs.replace(info, offset=recorded))
                    last_checkpoint = time.monotonic()
            if verify is not None:
                verify()
        except BaseException:
            if verify is not None:
                writer.discard()
            raise
        finally:
            # Shielded: a cancelled request still records the bytes it made durable.
            with anyio.CancelScope(shield=True):
                try:
                    await anyio.to_thread.run_sync(writer.write_batch_and_sync)
                finally:
                    await anyio.to_thread.run_sync(writer.close)
                if offset + writer.written != recorded:
                    recorded = offset + writer.written
                    await self._save(msgspec.structs.replace(info, offset=recorded))
        return recorded

    async def declare_length(self, length: int) -> None:
        await self._save(msgspec.structs.replace(await self.info(), length=length))

    async def finish(self) -> None:
        info = await self.info()
        if not info.finished:
            await self._save(msgspec.structs.replace(info, finished=True))

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        stop = (await self.info()).offset if end is None else end
        handle = await anyio.to_thread.run_sync(self._data_path.open, "rb")
        try:
            await anyio.to_thread.run_sync(handle.seek, start)
            remaining = stop - start
            while remaining > 0:
                chunk = await anyio.to_thread.run_sync(handle.read, min(BATCH_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def _save(self, info: UploadInfo) -> UploadInfo:
        info = msgspec.structs.replace(info, updated_at=time.time())
        await anyio.to_thread.run_sync(_write_atomically, self._info_path, _encode_info(info))
        return info


class FilesystemStorage:
    capabilities = ALL_CAPABILITIES

    def __init__(
        self, root: Path, *, checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS
    ) -> None:
        self._root = root
        self._checkpoint_seconds = checkpoint_seconds
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def create(self, new: NewUpload) -> FilesystemUpload:
        info = UploadInfo.new(new_upload_id(), new, time.time())
        await anyio.to_thread.run_sync(self._create_files, info)
        return self._upload(info.id)

    async def get(self, upload_id: str) -> FilesystemUpload | None:
        if not is_upload_id(upload_id):
            return None
        exists = await anyio.to_thread.run_sync(self._info_path(upload_id).is_file)
        return self._upload(upload_id) if exists else None

    async def terminate(self, upload_id: str) -> None:
        if is_upload_id(upload_id):
            await anyio.to_thread.run_sync(self._remove_files, upload_id)

    async def list_ids(self) -> AsyncIterator[str]:
        names = await anyio.to_thread.run_sync(os.listdir, self._root)
        for name in sorted(names):
            upload_id = name.removesuffix(_INFO_SUFFIX)
            if name.endswith(_INFO_SUFFIX) and is_upload_id(upload_id):
                yield upload_id

    def _upload(self, upload_id: str) -> FilesystemUpload:
        return FilesystemUpload(self._root, upload_id, self._checkpoint_seconds)

    def _info_path(self, upload_id: str) -> Path:
        return self._root / f"{upload_id}{_INFO_SUFFIX}"

    def _create_files(self, info: UploadInfo) -> None:
        os.close(os.open(self._root / info.id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _write_atomically(self._info_path(info.id), _encode_info(info))

    def _remove_files(self, upload_id: str) -> None:
        # The info file goes first: without it the upload no longer exists.
        self._info_path(upload_id).unlink(missing_ok=True)
        _fsync_directory(self._root)
        (self._root / upload_id).unlink(missing_ok=True)


class _BatchedWriter:
    """Blocking half of a chunk write; each method but `add` runs in a worker thread."""

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

    def add(self, chunk: bytes) -> None:
        self._batch += chunk

    @property
    def batch_full(self) -> bool:
        return len(self._batch) >= BATCH_SIZE

    def write_batch(self) -> None:
        batch, self._batch = self._batch, bytearray()
        _write_all(self._fd, batch)
        self.written += len(batch)

    def sync(self) -> None:
        os.fsync(self._fd)

    def write_batch_and_sync(self) -> None:
        self.write_batch()
        self.sync()

    def discard(self) -> None:
        """Forget everything this writer was given: the recorded offset stays where it was."""
        self._batch = bytearray()
        self.written = 0

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
