"""One contract for every storage backend (after Litestar's ``store`` fixture).

The ``backend`` fixture runs each test against the filesystem store, the memory
store and the S3 store (boto3 against moto's S3 server on loopback).
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.storage import (
    ALL_CAPABILITIES,
    FilesystemStorage,
    Lister,
    MemoryStorage,
    NewUpload,
    StaleOffsetError,
    Storage,
    Terminator,
    Upload,
    create_final,
    is_upload_id,
)
from server.storage.filesystem import BATCH_SIZE
from server.storage.s3 import MIN_PART_SIZE

pytestmark = pytest.mark.anyio

OWNER = "session:0123"


@pytest.fixture(params=["filesystem", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return FilesystemStorage(tmp_path / "uploads")


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _read_all(upload: Upload, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in upload.read(start, end)])


async def _created(storage: Storage, length: int | None, **fields: object) -> Upload:
    created = await storage.create(NewUpload(length=length, owner=OWNER, **fields))  # type: ignore[arg-type]
    upload = await storage.get(created.id)
    assert upload is not None
    return upload


async def _finished(storage: Storage, data: bytes, **fields: object) -> Upload:
    upload = await _created(storage, len(data), **fields)
    assert await upload.write_chunk(0, _chunks(data)) == len(data)
    await upload.finish()
    return upload


class _Rejected(Exception):
    pass


def _reject() -> None:
    raise _Rejected


async def test_create_records_what_it_is_given(backend: Storage) -> None:
    new = NewUpload(
        length=10, owner=OWNER, metadata={"filename": "a.mp4"}, case_ref="CASE-1", concat="partial"
    )
    created = await backend.create(new)
    assert is_upload_id(created.id)
    upload = await backend.get(created.id)
    assert upload is not None and upload.id == created.id
    stored = await upload.info()
    assert (stored.length, stored.offset, stored.owner, stored.metadata) == (
        10,
        0,
        OWNER,
        {"filename": "a.mp4"},
    )
    assert (stored.case_ref, stored.concat, stored.finished) == ("CASE-1", "partial", False)
    assert stored.created_at > 0 and stored.updated_at >= stored.created_at


async def test_ids_are_unique(backend: Storage) -> None:
    ids = {(await backend.create(NewUpload(length=1, owner=OWNER))).id for _ in range(10)}
    assert len(ids) == 10


@pytest.mark.parametrize("upload_id", ["0" * 32, "abc", "../../etc/passwd", "0" * 32 + ".info", ""])
async def test_get_unknown_or_malformed_is_none(backend: Storage, upload_id: str) -> None:
    assert await backend.get(upload_id) is None


async def test_write_chunks_then_read(backend: Storage) -> None:
    upload = await _created(backend, 9)
    assert await upload.write_chunk(0, _chunks(b"abc", b"", b"de")) == 5
    assert await upload.write_chunk(5, _chunks(b"fghi")) == 9
    assert (await upload.info()).offset == 9
    await upload.finish()
    assert (await upload.info()).finished
    assert await _read_all(upload) == b"abcdefghi"
    assert await _read_all(upload, 2, 5) == b"cde"
    assert await _read_all(upload, 8) == b"i"
    assert await _read_all(upload, 3, 3) == b""


async def test_large_writes_cross_parts_and_batches(backend: Storage) -> None:
    """Over one S3 part (5 MiB) and many filesystem batches, in uneven request chunks."""
    block = os.urandom(BATCH_SIZE // 3 + 7)
    count = MIN_PART_SIZE // len(block) + 4
    upload = await _created(backend, len(block) * count * 2)
    assert await upload.write_chunk(0, _chunks(*[block] * count)) == len(block) * count
    offset = len(block) * count
    assert await upload.write_chunk(offset, _chunks(*[block] * count)) == offset * 2
    await upload.finish()
    assert await _read_all(upload) == block * count * 2
    assert (
        await _read_all(upload, MIN_PART_SIZE - 3, MIN_PART_SIZE + 3)
        == (block * count * 2)[MIN_PART_SIZE - 3 : MIN_PART_SIZE + 3]
    )


async def test_a_write_must_start_at_the_recorded_offset(backend: Storage) -> None:
    upload = await _created(backend, 6)
    await upload.write_chunk(0, _chunks(b"abc"))
    for stale in (0, 2, 4):
        with pytest.raises(StaleOffsetError):
            await upload.write_chunk(stale, _chunks(b"XY"))
    assert (await upload.info()).offset == 3


async def test_failing_stream_keeps_received_bytes(backend: Storage) -> None:
    upload = await _created(backend, 10)

    async def dropped() -> AsyncIterator[bytes]:
        yield b"1234"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await upload.write_chunk(0, dropped())
    assert (await upload.info()).offset == 4
    await upload.write_chunk(4, _chunks(b"567890"))
    await upload.finish()
    assert await _read_all(upload) == b"1234567890"


async def test_verify_rejecting_discards_the_whole_chunk(backend: Storage) -> None:
    upload = await _created(backend, 20)
    await upload.write_chunk(0, _chunks(b"keep"))
    with pytest.raises(_Rejected):
        await upload.write_chunk(4, _chunks(b"bad", b"chunk"), verify=_reject)
    assert (await upload.info()).offset == 4
    assert await upload.write_chunk(4, _chunks(b"-good-"), verify=lambda: None) == 10
    await upload.write_chunk(10, _chunks(b"0123456789"))
    await upload.finish()
    assert await _read_all(upload) == b"keep-good-0123456789"


async def test_verify_with_a_failing_stream_keeps_nothing(backend: Storage) -> None:
    upload = await _created(backend, 10)

    async def dropped() -> AsyncIterator[bytes]:
        yield b"1234"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await upload.write_chunk(0, dropped(), verify=lambda: None)
    assert (await upload.info()).offset == 0


async def test_rejected_chunk_over_a_part_boundary_leaves_no_trace(backend: Storage) -> None:
    big = os.urandom(MIN_PART_SIZE + 100)
    upload = await _created(backend, len(big) + 3)
    await upload.write_chunk(0, _chunks(b"abc"))
    with pytest.raises(_Rejected):
        await upload.write_chunk(3, _chunks(os.urandom(len(big))), verify=_reject)
    assert await upload.write_chunk(3, _chunks(big)) == len(big) + 3
    await upload.finish()
    assert await _read_all(upload) == b"abc" + big


async def test_deferred_length_is_declared_later(backend: Storage) -> None:
    upload = await _created(backend, None)
    assert (await upload.info()).length is None
    await upload.write_chunk(0, _chunks(b"abc"))
    await upload.declare_length(5)
    await upload.write_chunk(3, _chunks(b"de"))
    info = await upload.info()
    assert (info.length, info.offset, info.is_complete) == (5, 5, True)
    await upload.finish()
    assert await _read_all(upload) == b"abcde"


async def test_zero_length_upload(backend: Storage) -> None:
    upload = await _created(backend, 0)
    await upload.finish()
    assert await _read_all(upload) == b""


async def test_finish_is_idempotent(backend: Storage) -> None:
    upload = await _created(backend, 1)
    await upload.write_chunk(0, _chunks(b"x"))
    await upload.finish()
    await upload.finish()
    assert (await upload.info()).finished
    assert await upload.write_chunk(1, _chunks()) == 1  # an empty PATCH at the end
    assert await _read_all(upload) == b"x"


async def test_terminate_removes_everything(backend: Storage) -> None:
    assert isinstance(backend, Terminator)
    unfinished = await _created(backend, 10)
    await unfinished.write_chunk(0, _chunks(b"abc"))
    finished = await _finished(backend, b"done")
    keep = await _finished(backend, b"keep")
    for upload in (unfinished, finished):
        await backend.terminate(upload.id)
        assert await backend.get(upload.id) is None
        with pytest.raises(FileNotFoundError):  # a request that held it finds it gone
            await upload.info()
    await backend.terminate("0" * 32)  # unknown: nothing to do
    assert await _read_all(keep) == b"keep"


async def test_list_ids(backend: Storage) -> None:
    assert isinstance(backend, Lister)
    created = {(await _created(backend, 1)).id for _ in range(3)}
    assert {upload_id async for upload_id in backend.list_ids()} == created


async def test_concatenation_assembles_finished_parts(backend: Storage) -> None:
    first = await _finished(backend, b"hello ", concat="partial")
    second = await _finished(backend, b"world", concat="partial")
    new = NewUpload(length=11, owner=OWNER, concat="final", parts=(first.id, second.id))
    final = await create_final(backend, new, [first, second])
    info = await final.info()
    assert (info.offset, info.finished, info.concat, info.parts) == (
        11,
        True,
        "final",
        (first.id, second.id),
    )
    assert await _read_all(final) == b"hello world"


async def test_capabilities_cover_every_extension(backend: Storage) -> None:
    assert backend.capabilities == ALL_CAPABILITIES


async def test_uploads_are_independent(backend: Storage) -> None:
    first, second = await _created(backend, 3), await _created(backend, 2)
    await first.write_chunk(0, _chunks(b"aaa"))
    await second.write_chunk(0, _chunks(b"bb"))
    await first.finish()
    await second.finish()
    assert await _read_all(first) == b"aaa"
    assert await _read_all(second) == b"bb"


# Filesystem specifics


async def test_filesystem_layout_and_permissions(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    storage = FilesystemStorage(root)
    upload = await storage.create(
        NewUpload(length=3, owner=OWNER, metadata={"filename": "../../etc/passwd"})
    )
    assert sorted(p.name for p in root.iterdir()) == [upload.id, f"{upload.id}.info"]
    for path in root.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "etc").exists()


async def test_filesystem_survives_a_restart(tmp_path: Path) -> None:
    created = await FilesystemStorage(tmp_path).create(
        NewUpload(length=4, owner=OWNER, metadata={"filetype": "video/mp4"})
    )
    upload = await FilesystemStorage(tmp_path).get(created.id)
    assert upload is not None
    await upload.write_chunk(0, _chunks(b"ab"))
    reopened = await FilesystemStorage(tmp_path).get(created.id)
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


async def test_filesystem_records_progress_of_a_long_write(tmp_path: Path) -> None:
    """A checkpoint records the offset mid-stream, after an fsync."""
    storage = FilesystemStorage(tmp_path, checkpoint_seconds=0)
    upload = await _created(storage, 10)
    seen: list[int] = []

    async def observed() -> AsyncIterator[bytes]:
        for part in (b"12", b"34", b"56"):
            yield part
            seen.append((await upload.info()).offset)

    assert await upload.write_chunk(0, observed()) == 6
    assert seen == [2, 4, 6]


async def test_filesystem_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    upload = await _created(storage, 2)
    await upload.write_chunk(0, _chunks(b"ab"))
    await upload.finish()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
