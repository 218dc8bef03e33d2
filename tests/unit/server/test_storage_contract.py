"""One contract for every storage backend (after Litestar's ``store`` fixture).

The ``backend`` fixture runs each test against the filesystem store, the memory
store and the S3 store (boto3 against moto's S3 server on loopback). Backends are
byte stores only: `_Registry` plays the registry's part, keeping the last
``(offset, store)`` handed to ``checkpoint`` (as JSON, the way the database
holds it) and passing that store back into the next call, as the protocol
layer's ``_append`` does.
"""

import hashlib
import json
import os
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from server import faults
from server.storage import (
    ALL_CAPABILITIES,
    FilesystemStorage,
    MemoryStorage,
    Part,
    StaleOffsetError,
    Storage,
    StoreState,
    Written,
    is_upload_id,
    new_upload_id,
)
from server.storage.filesystem import BATCH_SIZE
from server.storage.s3 import MIN_PART_SIZE, S3Storage

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["filesystem", "memory", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "memory":
        return MemoryStorage()
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return FilesystemStorage(tmp_path / "uploads")


# helpers


def _json(store: StoreState) -> StoreState:
    """A store state as the registry gives it back: through JSON (and so JSON-able)."""
    assert isinstance(store, dict)
    return json.loads(json.dumps(store))


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _dropped(*parts: bytes) -> AsyncIterator[bytes]:
    """A request body whose connection drops after ``parts``."""
    for part in parts:
        yield part
    raise ConnectionResetError


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)]


class _Rejected(Exception):
    pass


def _reject() -> None:
    raise _Rejected


class _Registry:
    """The registry's part for one upload: its recorded offset and store state."""

    def __init__(self, backend: Storage, upload_id: str, store: StoreState) -> None:
        self.backend = backend
        self.id = upload_id
        self.offset = 0
        self.store = _json(store)
        self.calls: list[tuple[int, StoreState]] = []  # checkpoints of the last write

    async def checkpoint(self, offset: int, store: StoreState) -> None:
        saved = _json(store)
        self.calls.append((offset, saved))
        self.offset, self.store = offset, saved

    async def write(self, stream: AsyncIterator[bytes], **options: Any) -> Written:
        """Append at the recorded offset (or ``offset=``), as a PATCH does."""
        self.calls = []
        offset = options.pop("offset", self.offset)
        written = await self.backend.write(
            self.id, self.store, offset, stream, checkpoint=self.checkpoint, **options
        )
        assert isinstance(written, Written)
        # the registry heard of where the write ended before it returned
        assert (self.offset, self.store) == (written.offset, _json(written.store))
        return written

    async def finish(self, length: int | None = None) -> StoreState:
        store = await self.backend.finish(
            self.id, self.store, self.offset if length is None else length
        )
        self.store = _json(store)
        return self.store

    async def read(self, start: int = 0, end: int | None = None) -> bytes:
        end = self.offset if end is None else end
        return b"".join(
            [chunk async for chunk in self.backend.read(self.id, self.store, start, end)]
        )

    async def delete(self) -> None:
        await self.backend.delete(self.id, self.store)

    def part(self) -> Part:
        return Part(self.id, self.store, self.offset)


async def _created(backend: Storage) -> _Registry:
    upload_id = new_upload_id()
    return _Registry(backend, upload_id, await backend.create(upload_id))


async def _finished(backend: Storage, data: bytes) -> _Registry:
    upload = await _created(backend)
    if data:
        assert (await upload.write(_chunks(data))).offset == len(data)
    await upload.finish(len(data))
    return upload


async def _concatenated(backend: Storage, parts: list[_Registry]) -> _Registry:
    upload_id = new_upload_id()
    store = await backend.concatenate(upload_id, [part.part() for part in parts])
    final = _Registry(backend, upload_id, store)
    final.offset = sum(part.offset for part in parts)
    return final


def _s3_objects(backend: S3Storage) -> list[str]:
    page = backend.client.list_objects_v2(Bucket=backend.bucket)
    return sorted(item["Key"] for item in page.get("Contents", []))


def _s3_multipart_uploads(backend: S3Storage) -> list[str]:
    page = backend.client.list_multipart_uploads(Bucket=backend.bucket)
    return sorted(item["Key"] for item in page.get("Uploads", []))


def _leftovers(backend: Storage, upload_id: str) -> list[str]:
    """What the backend holds for an upload: ``[id]`` once finished, ``[]`` once deleted."""
    if isinstance(backend, FilesystemStorage):
        return sorted(path.name for path in backend.root.iterdir() if upload_id in path.name)
    if isinstance(backend, MemoryStorage):
        return [upload_id] if upload_id in backend.blobs else []
    assert isinstance(backend, S3Storage)
    key = backend.key(upload_id)
    objects = [name for name in _s3_objects(backend) if name.startswith(key)]
    uploads = [f"multipart:{name}" for name in _s3_multipart_uploads(backend) if name == key]
    return sorted(name.removeprefix(backend.prefix) for name in objects) + uploads


def _check_stored(
    backend: Storage, upload_id: str, offset: int, store: StoreState, data: bytes
) -> None:
    """The bytes a checkpoint covers are already stored, and are the right ones."""
    if isinstance(backend, FilesystemStorage):
        assert (backend.root / upload_id).read_bytes()[:offset] == data[:offset]
    elif isinstance(backend, MemoryStorage):
        assert bytes(backend.blobs[upload_id][:offset]) == data[:offset]
    else:
        assert isinstance(backend, S3Storage)
        listed = backend.client.list_parts(
            Bucket=backend.bucket, Key=backend.key(upload_id), UploadId=store["upload_id"]
        )
        uploaded = {part["PartNumber"]: part for part in listed.get("Parts", [])}
        position = 0
        for number, etag, size in store["parts"]:
            assert uploaded[number]["Size"] == size
            expected = hashlib.md5(data[position : position + size]).hexdigest()
            assert etag == uploaded[number]["ETag"] == f'"{expected}"'
            position += size
        if store["tail_key"]:
            tail = backend.client.get_object(Bucket=backend.bucket, Key=store["tail_key"])
            body = tail["Body"].read()
            assert len(body) == store["tail_size"]
            assert body == data[position : position + len(body)]
            position += len(body)
        assert position == offset


# every backend


async def test_capabilities_cover_every_extension(backend: Storage) -> None:
    assert backend.capabilities == ALL_CAPABILITIES


async def test_create_prepares_an_independent_upload(backend: Storage) -> None:
    first, second = await _created(backend), await _created(backend)
    assert first.id != second.id and is_upload_id(first.id)
    await first.write(_chunks(b"aaa"))
    await second.write(_chunks(b"bb"))
    await first.finish()
    await second.finish()
    assert await first.read() == b"aaa"
    assert await second.read() == b"bb"


async def test_write_appends_at_the_offset_and_returns_where_it_ended(backend: Storage) -> None:
    upload = await _created(backend)
    written = await upload.write(_chunks(b"abc", b"", b"de"))
    assert written.offset == 5 and upload.offset == 5
    assert (await upload.write(_chunks(b"fghi"))).offset == 9
    assert upload.calls[-1][0] == 9
    await upload.finish()
    assert await upload.read() == b"abcdefghi"
    assert await upload.read(2, 5) == b"cde"
    assert await upload.read(8, 9) == b"i"
    assert await upload.read(3, 3) == b""


async def test_an_empty_write_changes_nothing(backend: Storage) -> None:
    upload = await _created(backend)
    await upload.write(_chunks(b"abc"))
    written = await backend.write(
        upload.id, upload.store, 3, _chunks(), checkpoint=upload.checkpoint
    )
    assert written.offset == 3 == upload.offset
    await upload.finish()
    assert await upload.read() == b"abc"


async def test_many_small_chunks_read_back_identical(backend: Storage) -> None:
    shuffle = random.Random(7)
    data = os.urandom(20_000)
    upload = await _created(backend)
    for piece in (data[:7_000], data[7_000:7_001], data[7_001:]):
        sizes = []
        while sum(sizes) < len(piece):
            sizes.append(shuffle.randint(1, 37))
        chunks, at = [], 0
        for size in sizes:
            chunks.append(piece[at : at + size])
            at += size
        await upload.write(_chunks(*chunks))
    assert upload.offset == len(data)
    await upload.finish()
    assert await upload.read() == data
    for start, end in ((0, 1), (6_999, 7_002), (123, 19_876), (19_999, 20_000)):
        assert await upload.read(start, end) == data[start:end]


async def test_large_writes_cross_parts_and_batches(backend: Storage) -> None:
    """Over one S3 part (5 MiB) and many filesystem batches, in uneven request chunks."""
    block = os.urandom(BATCH_SIZE // 3 + 7)
    count = MIN_PART_SIZE // len(block) + 4
    data = block * count * 2
    upload = await _created(backend)
    assert (await upload.write(_chunks(*[block] * count))).offset == len(block) * count
    assert (await upload.write(_chunks(*[block] * count))).offset == len(data)
    await upload.finish()
    assert await upload.read() == data
    for edge in (MIN_PART_SIZE, BATCH_SIZE, len(block) * count, 2 * MIN_PART_SIZE):
        assert await upload.read(edge - 3, edge + 3) == data[edge - 3 : edge + 3]


async def test_every_checkpoint_covers_stored_bytes(backend: Storage) -> None:
    data = os.urandom(MIN_PART_SIZE * 2 + 1000)
    upload = await _created(backend)
    checked: list[int] = []

    async def checkpoint(offset: int, store: StoreState) -> None:
        _check_stored(backend, upload.id, offset, _json(store), data)
        checked.append(offset)
        await upload.checkpoint(offset, store)

    written = await backend.write(
        upload.id, upload.store, 0, _chunks(*_pieces(data, 300_001)), checkpoint=checkpoint
    )
    assert checked and checked[-1] == written.offset == len(data)
    assert checked == sorted(set(checked))  # only forwards
    if isinstance(backend, S3Storage):  # after the part, then with the tail
        assert len(checked) == 2 and checked[0] >= MIN_PART_SIZE


async def test_a_crash_after_a_checkpoint_resumes_from_it(backend: Storage) -> None:
    """The registry may hold any checkpoint of a write (a crash right after it): the upload
    continues from there and reads back whole."""
    data = os.urandom(MIN_PART_SIZE + 5000)
    upload = await _created(backend)
    await upload.write(_chunks(*_pieces(data, 250_000)))
    assert upload.offset == len(data)
    upload.offset, upload.store = upload.calls[0]  # a crash right after the first one
    await upload.write(_chunks(data[upload.offset :]))
    assert upload.offset == len(data)
    await upload.finish()
    assert await upload.read() == data


async def test_a_write_past_the_stored_bytes_is_stale(backend: Storage) -> None:
    upload = await _created(backend)
    await upload.write(_chunks(b"abc"))
    before = upload.store
    upload.calls = []
    with pytest.raises(StaleOffsetError):
        await backend.write(upload.id, before, 5, _chunks(b"XY"), checkpoint=upload.checkpoint)
    assert upload.calls == [] and (upload.offset, upload.store) == (3, before)
    await upload.write(_chunks(b"def"))
    await upload.finish()
    assert await upload.read() == b"abcdef"


@pytest.mark.parametrize("size", [4, MIN_PART_SIZE + 100], ids=["small", "over-a-part"])
async def test_a_failing_stream_keeps_and_checkpoints_what_arrived(
    backend: Storage, size: int
) -> None:
    data = os.urandom(size + 6)
    upload = await _created(backend)
    upload.calls = []
    with pytest.raises(ConnectionResetError):
        await backend.write(
            upload.id,
            upload.store,
            0,
            _dropped(*_pieces(data[:size], 1_000_003)),
            checkpoint=upload.checkpoint,
        )
    assert upload.calls and upload.calls[-1][0] == upload.offset == size
    await upload.write(_chunks(data[size:]))
    await upload.finish()
    assert await upload.read() == data


async def test_verify_is_called_once_the_stream_ended(backend: Storage) -> None:
    data = os.urandom(MIN_PART_SIZE + 100)
    pieces = _pieces(data, 1_000_000)
    upload = await _created(backend)
    consumed: list[int] = []
    verified: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for index, piece in enumerate(pieces):
            consumed.append(index)
            yield piece

    written = await upload.write(body(), verify=lambda: verified.append(len(consumed)))
    assert verified == [len(pieces)]
    # all or nothing: the registry hears of the chunk once, when it is accepted
    assert upload.calls == [(len(data), _json(written.store))]
    await upload.finish()
    assert await upload.read() == data


@pytest.mark.parametrize("size", [8, MIN_PART_SIZE + 100], ids=["small", "over-a-part"])
async def test_a_rejected_verify_keeps_nothing(backend: Storage, size: int) -> None:
    upload = await _created(backend)
    await upload.write(_chunks(b"keep"))
    recorded = (upload.offset, upload.store)
    upload.calls = []
    with pytest.raises(_Rejected):
        await backend.write(
            upload.id,
            upload.store,
            4,
            _chunks(*_pieces(os.urandom(size), 1_000_000)),
            checkpoint=upload.checkpoint,
            verify=_reject,
        )
    assert upload.calls == [] and (upload.offset, upload.store) == recorded
    good = os.urandom(size)
    assert (await upload.write(_chunks(good), verify=lambda: None)).offset == 4 + size
    await upload.write(_chunks(b"0123456789"))
    await upload.finish()
    assert await upload.read() == b"keep" + good + b"0123456789"


@pytest.mark.parametrize("size", [4, MIN_PART_SIZE + 100], ids=["small", "over-a-part"])
async def test_verify_with_a_failing_stream_keeps_nothing(backend: Storage, size: int) -> None:
    upload = await _created(backend)
    await upload.write(_chunks(b"ab"))
    recorded = (upload.offset, upload.store)
    upload.calls = []
    verified: list[bool] = []
    with pytest.raises(ConnectionResetError):
        await backend.write(
            upload.id,
            upload.store,
            2,
            _dropped(*_pieces(os.urandom(size), 1_000_000)),
            checkpoint=upload.checkpoint,
            verify=lambda: verified.append(True),
        )
    assert verified == []
    assert upload.calls == [] and (upload.offset, upload.store) == recorded
    await upload.write(_chunks(b"cd"), verify=lambda: None)
    await upload.finish()
    assert await upload.read() == b"abcd"


async def test_finish_makes_the_bytes_readable_and_is_idempotent(backend: Storage) -> None:
    data = os.urandom(3000)
    upload = await _created(backend)
    await upload.write(_chunks(data[:1000]))
    await upload.write(_chunks(data[1000:]))
    before = upload.store
    finished = await upload.finish()
    assert await upload.finish() == finished
    assert await upload.read() == data
    assert _leftovers(backend, upload.id) == [upload.id]
    # a crash before the registry recorded the first finish: finished again from before
    again = await backend.finish(upload.id, before, len(data))
    assert _json(again) == finished
    assert await upload.read() == data
    assert _leftovers(backend, upload.id) == [upload.id]


async def test_zero_length_upload(backend: Storage) -> None:
    upload = await _created(backend)
    before = upload.store
    await upload.finish(0)
    assert await upload.read(0, 0) == b""
    assert _leftovers(backend, upload.id) == [upload.id]
    assert _json(await backend.finish(upload.id, before, 0)) == upload.store
    assert await upload.finish(0) == upload.store
    assert _leftovers(backend, upload.id) == [upload.id]


async def test_delete_removes_everything_and_is_idempotent(backend: Storage) -> None:
    keep = await _finished(backend, b"keep")
    created = await _created(backend)
    receiving = await _created(backend)
    await receiving.write(_chunks(b"abc"))
    finished = await _finished(backend, b"done")
    # finished, but the registry never heard of it: it still holds the earlier store
    unrecorded = await _created(backend)
    await unrecorded.write(_chunks(b"xyz"))
    earlier = unrecorded.store
    await unrecorded.finish()
    unrecorded.store = earlier
    for upload in (created, receiving, finished, unrecorded):
        assert _leftovers(backend, upload.id)
        await upload.delete()
        assert _leftovers(backend, upload.id) == []
        await upload.delete()
        assert _leftovers(backend, upload.id) == []
    await backend.delete(new_upload_id(), {})  # never stored: nothing to do
    assert await keep.read() == b"keep"
    assert _leftovers(backend, keep.id) == [keep.id]


async def test_concatenate_assembles_finished_parts(backend: Storage) -> None:
    hello = await _finished(backend, b"hello ")
    world = await _finished(backend, b"world")
    final = await _concatenated(backend, [hello, world, hello])
    assert final.store == _json(final.store)
    assert await final.read() == b"hello worldhello "
    assert await final.read(4, 13) == b"o worldhe"
    assert _leftovers(backend, final.id) == [final.id]
    # the parts are untouched
    assert await hello.read() == b"hello " and await world.read() == b"world"


async def test_concatenate_empty_parts(backend: Storage) -> None:
    empty = await _finished(backend, b"")
    abc = await _finished(backend, b"abc")
    mixed = await _concatenated(backend, [empty, abc, empty])
    assert await mixed.read() == b"abc"
    nothing = await _concatenated(backend, [empty, empty])
    assert await nothing.read(0, 0) == b""
    assert _leftovers(backend, nothing.id) == [nothing.id]


async def test_remove_orphans_removes_only_unknown_uploads(backend: Storage) -> None:
    known_finished = await _finished(backend, b"known")
    known_receiving = await _created(backend)
    await known_receiving.write(_chunks(b"abc"))
    orphans = [await _finished(backend, b"orphan"), await _created(backend)]
    await orphans[1].write(_chunks(b"half"))
    orphans.append(await _created(backend))
    kept = {known_finished.id, known_receiving.id}
    asked: list[str] = []

    async def known(upload_ids: list[str]) -> set[str]:
        asked.extend(upload_ids)
        return {upload_id for upload_id in upload_ids if upload_id in kept}

    removed = await backend.remove_orphans(known, time.time() + 60)
    assert all(is_upload_id(upload_id) for upload_id in asked)
    assert set(asked) == kept | {orphan.id for orphan in orphans}
    # S3 counts what it removed: a multipart upload, a tail and an object each count
    assert removed == (4 if isinstance(backend, S3Storage) else 3)
    for orphan in orphans:
        assert _leftovers(backend, orphan.id) == []
    assert await known_finished.read() == b"known"
    await known_receiving.write(_chunks(b"de"))
    await known_receiving.finish()
    assert await known_receiving.read() == b"abcde"
    assert await backend.remove_orphans(known, time.time() + 60) == 0


async def test_ping(backend: Storage) -> None:
    await backend.ping()


# filesystem specifics


@pytest.mark.parametrize(
    "bad_id",
    ["abc", "", "../../etc/passwd", "0" * 32 + ".tmp", "A" * 32, "0" * 32 + "\n", "../" + "0" * 29],
)
async def test_filesystem_never_makes_a_path_of_a_non_id(tmp_path: Path, bad_id: str) -> None:
    root = tmp_path / "uploads"
    storage = FilesystemStorage(root)
    part = await _finished(storage, b"part")
    before = sorted(str(path) for path in tmp_path.rglob("*"))

    async def checkpoint(offset: int, store: StoreState) -> None:
        raise AssertionError("nothing may be written")

    with pytest.raises(ValueError):
        await storage.create(bad_id)
    with pytest.raises(ValueError):
        await storage.write(bad_id, {}, 0, _chunks(b"x"), checkpoint=checkpoint)
    with pytest.raises(ValueError):
        async for _ in storage.read(bad_id, {}, 0, 1):
            pass
    with pytest.raises(ValueError):
        await storage.concatenate(bad_id, [part.part()])
    with pytest.raises(ValueError):
        await storage.concatenate(new_upload_id(), [Part(bad_id, {}, 1)])
    await storage.delete(bad_id, {})  # not an upload: nothing to do
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before
    assert await part.read() == b"part"


async def test_filesystem_layout_and_permissions(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    storage = FilesystemStorage(root)
    assert root.stat().st_mode & 0o777 == 0o700
    upload = await _created(storage)
    assert upload.store == {}
    assert [path.name for path in root.iterdir()] == [upload.id]
    assert (root / upload.id).stat().st_mode & 0o777 == 0o600


async def test_filesystem_write_past_the_file_is_stale(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    upload = await _created(storage)
    await upload.write(_chunks(b"abc"))
    upload.calls = []
    for offset in (4, 100):
        with pytest.raises(StaleOffsetError):
            await storage.write(upload.id, {}, offset, _chunks(b"XY"), checkpoint=upload.checkpoint)
    assert upload.calls == []
    assert (tmp_path / upload.id).read_bytes() == b"abc"


async def test_filesystem_truncates_unacknowledged_bytes(tmp_path: Path) -> None:
    """Bytes past the recorded offset (a crash before the checkpoint) are neither read nor kept."""
    storage = FilesystemStorage(tmp_path)
    upload = await _created(storage)
    await upload.write(_chunks(b"abc"))
    with (tmp_path / upload.id).open("ab") as data:
        data.write(b"garbage")
    assert await upload.read() == b"abc"
    await upload.write(_chunks(b"def"))
    assert (tmp_path / upload.id).read_bytes() == b"abcdef"


async def test_filesystem_survives_a_restart(tmp_path: Path) -> None:
    upload = await _created(FilesystemStorage(tmp_path))
    await upload.write(_chunks(b"ab"))
    upload.backend = FilesystemStorage(tmp_path)
    await upload.write(_chunks(b"cd"))
    await upload.finish()
    upload.backend = FilesystemStorage(tmp_path)
    assert await upload.read() == b"abcd"


async def test_filesystem_checkpoints_progress_of_a_long_write(tmp_path: Path) -> None:
    """A checkpoint records the offset mid-stream, once its bytes are on disk."""
    storage = FilesystemStorage(tmp_path, checkpoint_seconds=0)
    upload = await _created(storage)
    on_disk: list[bytes] = []

    async def checkpoint(offset: int, store: StoreState) -> None:
        on_disk.append((tmp_path / upload.id).read_bytes())
        await upload.checkpoint(offset, store)

    async def observed() -> AsyncIterator[bytes]:
        for part in (b"12", b"34", b"56"):
            yield part

    written = await storage.write(upload.id, {}, 0, observed(), checkpoint=checkpoint)
    assert written.offset == 6
    assert [offset for offset, _ in upload.calls] == [2, 4, 6]
    assert on_disk == [b"12", b"1234", b"123456"]


async def test_filesystem_verify_checkpoints_only_at_the_end(tmp_path: Path) -> None:
    """All or nothing even when a checkpoint is due: a rejected chunk was never recorded."""
    storage = FilesystemStorage(tmp_path, checkpoint_seconds=0)
    upload = await _created(storage)
    with pytest.raises(_Rejected):
        await upload.write(_chunks(b"12", b"34", b"56"), verify=_reject)
    assert upload.calls == [] and upload.offset == 0
    await upload.write(_chunks(b"ab", b"cd"), verify=lambda: None)
    assert upload.calls == [(4, {})]
    await upload.finish()
    assert await upload.read() == b"abcd"


async def test_filesystem_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    first = await _finished(storage, b"ab")
    second = await _finished(storage, b"cd")
    final = await _concatenated(storage, [first, second])
    assert await final.read() == b"abcd"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [first.id, second.id, final.id]
    )


async def test_filesystem_remove_orphans_spares_new_and_foreign_files(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path)
    old_orphan = await _finished(storage, b"old")
    new_orphan = await _finished(storage, b"new")
    temp = tmp_path / f"{new_upload_id()}.0a1b2c3d.tmp"  # a concatenation cut short
    temp.write_bytes(b"half")
    foreign = tmp_path / "README"
    foreign.write_bytes(b"not ours")
    an_hour_ago = time.time() - 3600
    for path in (tmp_path / old_orphan.id, temp, foreign):
        os.utime(path, (an_hour_ago, an_hour_ago))
    asked: list[str] = []

    async def known(upload_ids: list[str]) -> set[str]:
        asked.extend(upload_ids)
        return set()

    assert await storage.remove_orphans(known, time.time() - 60) == 2
    assert asked == [old_orphan.id]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["README", new_orphan.id])
    assert await new_orphan.read() == b"new"


async def test_filesystem_ping_fails_without_its_directory(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path / "uploads")
    await storage.ping()
    (tmp_path / "uploads").rmdir()
    with pytest.raises(OSError):
        await storage.ping()


# S3 specifics


class _CallLog:
    """The boto3 client, noting which operations are called."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return call


UPLOADING = {"upload_part", "upload_part_copy", "complete_multipart_upload", "put_object"}


async def test_s3_write_at_another_offset_than_the_stores_is_stale(s3_storage: S3Storage) -> None:
    upload = await _created(s3_storage)
    await upload.write(_chunks(b"abc"))
    before = upload.store
    upload.calls = []
    for offset in (0, 2, 4):
        with pytest.raises(StaleOffsetError):
            await s3_storage.write(
                upload.id, before, offset, _chunks(b"XY"), checkpoint=upload.checkpoint
            )
    assert upload.calls == [] and upload.store == before
    assert _leftovers(s3_storage, upload.id) == sorted(
        [before["tail_key"].removeprefix("uploads/"), f"multipart:uploads/{upload.id}"]
    )
    await upload.write(_chunks(b"def"))
    await upload.finish()
    assert await upload.read() == b"abcdef"


async def test_s3_keeps_parts_and_one_tail(s3_storage: S3Storage) -> None:
    data = os.urandom(MIN_PART_SIZE + 3000)
    upload = await _created(s3_storage)
    await upload.write(_chunks(*_pieces(data[:1000], 100)))
    first_tail = upload.store["tail_key"]
    await upload.write(_chunks(*_pieces(data[1000:], 4096)))
    store = upload.store
    [(number, _, size)] = store["parts"]  # the first tail went into the part
    assert number == 1 and MIN_PART_SIZE <= size < MIN_PART_SIZE + 4096
    assert store["tail_size"] == len(data) - size > 0 and store["tail_key"] != first_tail
    _check_stored(s3_storage, upload.id, len(data), store, data)
    # the old tail went once the registry pointed at the new one
    assert _leftovers(s3_storage, upload.id) == sorted(
        [store["tail_key"].removeprefix("uploads/"), f"multipart:uploads/{upload.id}"]
    )
    await upload.finish()
    assert _leftovers(s3_storage, upload.id) == [upload.id]
    assert await upload.read() == data


async def test_s3_finish_repeated_after_completion_uploads_nothing(
    s3_storage: S3Storage,
) -> None:
    """CompleteMultipartUpload succeeded but the registry never heard (a crash), maybe even
    before the tail was deleted: the next finish sees the object and only tidies up."""
    data = os.urandom(MIN_PART_SIZE + 10)
    upload = await _created(s3_storage)
    await upload.write(_chunks(data[:MIN_PART_SIZE], data[MIN_PART_SIZE:]))  # a part, a tail
    before = upload.store
    tail = s3_storage.client.get_object(Bucket=s3_storage.bucket, Key=before["tail_key"])
    tail_bytes = tail["Body"].read()
    finished = await upload.finish()
    assert finished["completed"]
    key = s3_storage.key(upload.id)
    etag = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=key)["ETag"]
    # the crash came before the tail was deleted
    s3_storage.client.put_object(Bucket=s3_storage.bucket, Key=before["tail_key"], Body=tail_bytes)
    log = _CallLog(s3_storage.client)
    s3_storage.client = log
    assert _json(await s3_storage.finish(upload.id, before, len(data))) == finished
    assert _json(await s3_storage.finish(upload.id, finished, len(data))) == finished
    assert not UPLOADING & set(log.calls)
    s3_storage.client = log._client
    assert s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=key)["ETag"] == etag
    assert _leftovers(s3_storage, upload.id) == [upload.id]
    assert await upload.read() == data


async def test_s3_finish_after_a_failed_completion(s3_storage: S3Storage) -> None:
    upload = await _created(s3_storage)
    await upload.write(_chunks(b"abc"))
    faults.arm({"s3-complete-error": 1})
    try:
        with pytest.raises(ClientError):
            await upload.finish()
    finally:
        faults.arm({})
    assert f"multipart:uploads/{upload.id}" in _leftovers(s3_storage, upload.id)
    assert upload.id not in _leftovers(s3_storage, upload.id)
    await upload.finish()
    assert _leftovers(s3_storage, upload.id) == [upload.id]
    assert await upload.read() == b"abc"


async def test_s3_delete_aborts_the_multipart_upload_and_removes_the_tail(
    s3_storage: S3Storage,
) -> None:
    data = os.urandom(MIN_PART_SIZE + 10)
    upload = await _created(s3_storage)
    await upload.write(_chunks(data[:MIN_PART_SIZE], data[MIN_PART_SIZE:]))  # a part, a tail
    assert _s3_multipart_uploads(s3_storage) == [s3_storage.key(upload.id)]
    assert _s3_objects(s3_storage) == [upload.store["tail_key"]]
    await upload.delete()
    assert _s3_multipart_uploads(s3_storage) == []
    assert _s3_objects(s3_storage) == []
    await upload.delete()
    finished = await _finished(s3_storage, data)
    await finished.delete()
    assert _s3_multipart_uploads(s3_storage) == [] and _s3_objects(s3_storage) == []


@pytest.mark.parametrize(
    "sizes",
    [
        [1000, MIN_PART_SIZE + 123, 777],
        [MIN_PART_SIZE + 1, 1000, MIN_PART_SIZE + 2],
        [3 * 1024 * 1024, 3 * 1024 * 1024, 1000],
        [10, 20, 30],
    ],
    ids=["big-between-small", "small-between-big", "small-over-a-part", "tiny"],
)
async def test_s3_concatenate_is_byte_identical(s3_storage: S3Storage, sizes: list[int]) -> None:
    datas = [os.urandom(size) for size in sizes]
    parts = [await _finished(s3_storage, data) for data in datas]
    final = await _concatenated(s3_storage, parts)
    whole = b"".join(datas)
    assert final.offset == len(whole)
    assert await final.read() == whole
    boundary = sizes[0]
    assert await final.read(boundary - 5, boundary + 5) == whole[boundary - 5 : boundary + 5]
    assert _s3_multipart_uploads(s3_storage) == []
    assert _s3_objects(s3_storage) == sorted(s3_storage.key(part.id) for part in [*parts, final])


async def test_s3_ping_fails_without_its_bucket(s3_storage: S3Storage) -> None:
    missing = S3Storage(s3_storage.client, s3_storage.bucket + "-missing")
    with pytest.raises(ClientError):
        await missing.ping()


async def test_a_storage_belongs_to_the_first_deployment_that_claims_it(backend: Storage) -> None:
    mine, theirs = new_upload_id(), new_upload_id()
    assert await backend.claim(mine)
    assert await backend.claim(mine)
    assert not await backend.claim(theirs)
