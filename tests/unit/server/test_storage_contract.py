"""One contract for every storage backend (after Litestar's ``store`` fixture)."""

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.storage import Capability, FilesystemStorage, Storage, Upload, is_upload_id
from server.storage.filesystem import BATCH_SIZE

pytestmark = pytest.mark.anyio

OWNER = "session:0123"


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _read_all(upload: Upload) -> bytes:
    return b"".join([chunk async for chunk in upload.read()])


async def _created(storage: Storage, length: int, metadata: dict[str, str] | None = None) -> Upload:
    created = await storage.create(length, metadata or {}, OWNER)
    upload = await storage.get(created.id)
    assert upload is not None
    return upload


async def test_create_records_length_metadata_and_owner(storage: Storage) -> None:
    created = await storage.create(10, {"filename": "a.mp4"}, OWNER)
    assert is_upload_id(created.id)
    upload = await storage.get(created.id)
    assert upload is not None and upload.id == created.id
    stored = await upload.info()
    assert (stored.length, stored.offset, stored.owner, stored.metadata) == (
        10,
        0,
        OWNER,
        {"filename": "a.mp4"},
    )
    assert not stored.finished


async def test_ids_are_unique(storage: Storage) -> None:
    ids = {(await storage.create(1, {}, OWNER)).id for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize("upload_id", ["0" * 32, "abc", "../../etc/passwd", "0" * 32 + ".info", ""])
async def test_get_unknown_or_malformed_is_none(storage: Storage, upload_id: str) -> None:
    assert await storage.get(upload_id) is None


async def test_write_chunks_then_read(storage: Storage) -> None:
    upload = await _created(storage, 9)
    assert await upload.write_chunk(0, _chunks(b"abc", b"", b"de")) == 5
    assert await upload.write_chunk(5, _chunks(b"fghi")) == 9
    assert (await upload.info()).offset == 9
    assert await _read_all(upload) == b"abcdefghi"


async def test_large_writes_cross_batches(storage: Storage) -> None:
    part = os.urandom(BATCH_SIZE // 3 + 7)
    parts = [part] * 7
    upload = await _created(storage, len(part) * 7)
    assert await upload.write_chunk(0, _chunks(*parts)) == len(part) * 7
    assert await _read_all(upload) == part * 7


async def test_rewrite_from_an_earlier_offset_drops_the_tail(storage: Storage) -> None:
    """Backends trust the offset they are given (the protocol checks it)."""
    upload = await _created(storage, 6)
    await upload.write_chunk(0, _chunks(b"abcdef"))
    assert await upload.write_chunk(2, _chunks(b"XY")) == 4
    assert await _read_all(upload) == b"abXY"


async def test_failing_stream_keeps_received_bytes(storage: Storage) -> None:
    upload = await _created(storage, 10)

    async def dropped() -> AsyncIterator[bytes]:
        yield b"1234"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await upload.write_chunk(0, dropped())
    assert (await upload.info()).offset == 4
    assert await _read_all(upload) == b"1234"


async def test_finish_is_idempotent(storage: Storage) -> None:
    upload = await _created(storage, 1)
    await upload.write_chunk(0, _chunks(b"x"))
    await upload.finish()
    await upload.finish()
    assert (await upload.info()).finished


async def test_capabilities_include_creation(storage: Storage) -> None:
    assert Capability.CREATION in storage.capabilities


async def test_uploads_are_independent(storage: Storage) -> None:
    first, second = await _created(storage, 3), await _created(storage, 3)
    await first.write_chunk(0, _chunks(b"aaa"))
    await second.write_chunk(0, _chunks(b"bb"))
    assert await _read_all(first) == b"aaa"
    assert await _read_all(second) == b"bb"


# Filesystem specifics


async def test_filesystem_layout_and_permissions(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    storage = FilesystemStorage(root)
    info = await storage.create(3, {"filename": "../../etc/passwd"}, OWNER)
    assert sorted(p.name for p in root.iterdir()) == [info.id, f"{info.id}.info"]
    for path in root.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (tmp_path / "etc").exists()


async def test_filesystem_survives_a_restart(tmp_path: Path) -> None:
    info = await FilesystemStorage(tmp_path).create(4, {"filetype": "video/mp4"}, OWNER)
    upload = await FilesystemStorage(tmp_path).get(info.id)
    assert upload is not None
    await upload.write_chunk(0, _chunks(b"ab"))
    reopened = await FilesystemStorage(tmp_path).get(info.id)
    assert reopened is not None
    assert (await reopened.info()).offset == 2
    assert (await reopened.info()).metadata == {"filetype": "video/mp4"}


async def test_filesystem_ignores_unacknowledged_bytes(tmp_path: Path) -> None:
    """Bytes past the recorded offset (a crash before the ack) are neither read nor kept."""
    storage = FilesystemStorage(tmp_path)
    upload = await _created(storage, 6)
    await upload.write_chunk(0, _chunks(b"abc"))
    with (tmp_path / upload.id).open("ab") as data:
        data.write(b"garbage")
    assert await _read_all(upload) == b"abc"
    await upload.write_chunk(3, _chunks(b"def"))
    assert (tmp_path / upload.id).read_bytes() == b"abcdef"


async def test_filesystem_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    upload = await _created(storage, 2)
    await upload.write_chunk(0, _chunks(b"ab"))
    await upload.finish()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
