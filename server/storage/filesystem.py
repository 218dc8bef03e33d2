"""Filesystem storage: ``<root>/<id>`` holds an upload's bytes, and nothing else.

- Bytes are fsynced before their offset is checkpointed to the registry, so a
  recorded (and so acknowledged) offset always covers durable bytes. Bytes past
  it (from a write cut short by a crash) are never read and are truncated by
  the next write.
- A long PATCH checkpoints its progress every ``checkpoint_seconds`` (after an
  fsync), so a crash loses at most that much of it.
- Request chunks are batched to about 1 MiB and written in a worker thread, so
  file I/O does not stall the event loop.
- Concatenation copies inside the kernel (``os.copy_file_range``) into a temp
  file that is renamed into place once complete and durable.
- Only upload ids (32 hex chars) ever become part of a path; metadata never does.
"""

import os
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import anyio.to_thread

from server.storage.base import (
    ALL_CAPABILITIES,
    Checkpoint,
    Part,
    StaleOffsetError,
    StoreState,
    Verify,
    Written,
)
from server.storage.ids import is_upload_id

BATCH_SIZE = 1024 * 1024
DEFAULT_CHECKPOINT_SECONDS = 2.0
COPY_CHUNK = 64 * 1024 * 1024
_TEMP_SUFFIX = ".tmp"
DEPLOYMENT_MARKER = ".medpress-deployment"


class FilesystemStorage:
    capabilities = ALL_CAPABILITIES

    def __init__(
        self, root: Path, *, checkpoint_seconds: float = DEFAULT_CHECKPOINT_SECONDS
    ) -> None:
        self.root = root
        self._checkpoint_seconds = checkpoint_seconds
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def create(self, upload_id: str) -> StoreState:
        await anyio.to_thread.run_sync(self._create_file, upload_id)
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
        writer = await anyio.to_thread.run_sync(_BatchedWriter.open, self._path(upload_id), offset)
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
                    await checkpoint(recorded, store)
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
                    await checkpoint(recorded, store)
        return Written(recorded, store)

    async def finish(self, upload_id: str, store: StoreState, length: int) -> StoreState:
        return store  # every checkpointed byte is already durable and readable

    async def read(
        self, upload_id: str, store: StoreState, start: int, end: int
    ) -> AsyncIterator[bytes]:
        handle = await anyio.to_thread.run_sync(self._path(upload_id).open, "rb")
        try:
            await anyio.to_thread.run_sync(handle.seek, start)
            remaining = end - start
            while remaining > 0:
                chunk = await anyio.to_thread.run_sync(handle.read, min(BATCH_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, upload_id: str, store: StoreState) -> None:
        if is_upload_id(upload_id):
            await anyio.to_thread.run_sync(self._path(upload_id).unlink, True)

    async def concatenate(self, upload_id: str, parts: list[Part]) -> StoreState:
        sources = [(self._path(part.id), part.length) for part in parts]
        await anyio.to_thread.run_sync(self._concatenate, self._path(upload_id), sources)
        return {}

    async def claim(self, deployment_id: str) -> bool:
        return await anyio.to_thread.run_sync(self._claim, deployment_id)

    def _claim(self, deployment_id: str) -> bool:
        marker = self.root / DEPLOYMENT_MARKER
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return marker.read_text(encoding="ascii").strip() == deployment_id
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(deployment_id)
            file.flush()
            os.fsync(file.fileno())
        _fsync_directory(self.root)
        return True

    async def ping(self) -> None:
        if not await anyio.to_thread.run_sync(os.access, self.root, os.W_OK):
            raise OSError("the uploads directory is not writable")

    async def remove_orphans(
        self, known: Callable[[list[str]], Awaitable[set[str]]], older_than: float
    ) -> int:
        old = await anyio.to_thread.run_sync(self._files_older_than, older_than)
        upload_ids = [name for name in old if is_upload_id(name)]
        keep = await known(upload_ids)
        doomed = [name for name in old if name not in keep]
        await anyio.to_thread.run_sync(self._unlink_all, doomed)
        return len(doomed)

    def _path(self, upload_id: str) -> Path:
        if not is_upload_id(upload_id):
            raise ValueError("not an upload id")
        return self.root / upload_id

    def _create_file(self, upload_id: str) -> None:
        os.close(os.open(self._path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _fsync_directory(self.root)

    def _concatenate(self, target: Path, sources: list[tuple[Path, int]]) -> None:
        temp = self.root / f"{target.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
        out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                for source, length in sources:
                    _copy(source, length, out)
                os.fsync(out)
            finally:
                os.close(out)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(self.root)

    def _files_older_than(self, cutoff: float) -> list[str]:
        """Upload data files and our temp files, last changed before ``cutoff``."""
        old = []
        for entry in os.scandir(self.root):
            ours = is_upload_id(entry.name) or entry.name.endswith(_TEMP_SUFFIX)
            if ours and entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                old.append(entry.name)
        return old

    def _unlink_all(self, names: list[str]) -> None:
        for name in names:
            (self.root / name).unlink(missing_ok=True)


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
            if os.fstat(fd).st_size < offset:
                raise StaleOffsetError(f"offset {offset} is past the stored bytes")
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


def _copy(source: Path, size: int, out: int) -> None:
    """The first ``size`` bytes of ``source`` appended to ``out``, inside the kernel."""
    with source.open("rb") as handle:
        copied = 0
        while copied < size:
            step = os.copy_file_range(handle.fileno(), out, min(COPY_CHUNK, size - copied))
            if step == 0:
                raise OSError(f"copy stopped short at {copied} of {size} bytes")
            copied += step


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
