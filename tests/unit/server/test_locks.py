"""Per-upload locking: concurrent PATCHes never interleave; a ghost PATCH yields."""

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from server.auth.principal import Principal
from server.db.registry import MemoryRegistry
from server.storage import FilesystemStorage, MemoryStorage, Storage
from server.tus.errors import TusError
from server.tus.locks import UploadLocks
from server.tus.protocol import TusProtocol

pytestmark = pytest.mark.anyio

OWNER = Principal("session", "s1")
OCTETS = "application/offset+octet-stream"


class _Headers(dict[str, str]):
    def getall(self, key: str, default: list[str] | None = None) -> list[str]:
        value = {k.lower(): v for k, v in self.items()}.get(key.lower())
        return [value] if value is not None else (default or [])


def _patch_headers(offset: int) -> _Headers:
    return _Headers(
        {"Tus-Resumable": "1.0.0", "Content-Type": OCTETS, "Upload-Offset": str(offset)}
    )


@pytest.fixture(params=["memory", "filesystem"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return MemoryStorage() if request.param == "memory" else FilesystemStorage(tmp_path)


async def _setup(store: Storage, wait: float, stale_after: float) -> tuple[TusProtocol, str]:
    locks = UploadLocks(wait=wait, stale_after=stale_after)
    tus = TusProtocol(store, MemoryRegistry(), 1000, locks=locks)
    created = await tus.create(_Headers({"Tus-Resumable": "1.0.0", "Upload-Length": "100"}), OWNER)
    return tus, created["Location"].removeprefix("/files/")


async def _offset(tus: TusProtocol, upload_id: str) -> int:
    return int(
        (await tus.head(upload_id, _Headers({"Tus-Resumable": "1.0.0"}), OWNER))["Upload-Offset"]
    )


async def _bytes(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_busy_upload_answers_423_after_a_short_wait(store: Storage) -> None:
    tus, upload_id = await _setup(store, wait=0.2, stale_after=60)
    release = anyio.Event()

    async def live_body() -> AsyncIterator[bytes]:
        yield b"a" * 10
        while not release.is_set():  # still sending: never interrupted
            await anyio.sleep(0.02)
            yield b""

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tus.patch, upload_id, _patch_headers(0), live_body(), OWNER)
        await anyio.sleep(0.05)
        started = anyio.current_time()
        with pytest.raises(TusError) as error:
            await tus.patch(upload_id, _patch_headers(0), _bytes(b"b" * 10), OWNER)
        assert error.value.code == "ERR_UPLOAD_LOCKED"
        assert 0.15 <= anyio.current_time() - started < 2
        release.set()
    assert await _offset(tus, upload_id) == 10


async def test_a_waiter_gets_the_lock_when_it_frees_up(store: Storage) -> None:
    tus, upload_id = await _setup(store, wait=2, stale_after=60)

    async def short_body() -> AsyncIterator[bytes]:
        yield b"a" * 10
        await anyio.sleep(0.1)
        yield b"a" * 10

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tus.patch, upload_id, _patch_headers(0), short_body(), OWNER)
        await anyio.sleep(0.02)
        # waits for the first PATCH, then finds the offset moved on: a conflict, not a mix
        with pytest.raises(TusError) as error:
            await tus.patch(upload_id, _patch_headers(0), _bytes(b"b" * 10), OWNER)
        assert error.value.code == "ERR_MISMATCHED_OFFSET"
    reply = await tus.patch(upload_id, _patch_headers(20), _bytes(b"c" * 5), OWNER)
    assert reply["Upload-Offset"] == "25"


async def test_a_silent_patch_yields_to_its_resumed_client(store: Storage) -> None:
    """A phone's dead connection: no bytes, no FIN. The resumed request takes over."""
    tus, upload_id = await _setup(store, wait=0.1, stale_after=0.2)
    ghost_reply: dict[str, str] = {}

    async def ghost_body() -> AsyncIterator[bytes]:
        yield b"a" * 30
        await anyio.sleep(3600)  # the connection hangs forever
        yield b"never"

    async def ghost() -> None:
        ghost_reply.update(await tus.patch(upload_id, _patch_headers(0), ghost_body(), OWNER))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(ghost)
            await anyio.sleep(0.3)
            offset = await _offset(tus, upload_id)  # HEAD needs no lock
            reply = await tus.patch(upload_id, _patch_headers(30), _bytes(b"b" * 70), OWNER)
    assert offset in (0, 30)  # depending on whether the ghost had recorded its bytes yet
    assert ghost_reply["Upload-Offset"] == "30"
    assert reply["Upload-Offset"] == "100"


async def test_locks_are_forgotten_when_released() -> None:
    locks = UploadLocks()
    async with locks.hold("a"), locks.try_hold("a") as free:
        assert not free
    async with locks.try_hold("a") as free:
        assert free
    assert locks._holds == {}


async def test_a_patch_waiting_for_a_delete_finds_nothing(store: Storage) -> None:
    tus, upload_id = await _setup(store, wait=2, stale_after=60)
    release = anyio.Event()
    original = store.delete

    async def slow_delete(upload_id: str, state: dict[str, object]) -> None:
        await release.wait()
        await original(upload_id, state)

    store.delete = slow_delete  # type: ignore[method-assign]
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tus.terminate, upload_id, _Headers({"Tus-Resumable": "1.0.0"}), OWNER)
        await anyio.sleep(0.05)

        async def release_soon() -> None:
            await anyio.sleep(0.05)
            release.set()

        tasks.start_soon(release_soon)
        with pytest.raises(TusError) as error:
            await tus.patch(upload_id, _patch_headers(0), _bytes(b"late"), OWNER)
        assert error.value.code == "ERR_UPLOAD_NOT_FOUND"


async def test_the_sweep_leaves_busy_uploads_alone(store: Storage) -> None:
    now = [0.0]
    clock = lambda: now[0]
    tus = TusProtocol(store, MemoryRegistry(clock), 1000, expiry=1, clock=clock)
    created = await tus.create(_Headers({"Tus-Resumable": "1.0.0", "Upload-Length": "9"}), OWNER)
    upload_id = created["Location"].removeprefix("/files/")
    now[0] = 1e12
    async with tus._locks.hold(upload_id):
        assert await tus.sweep_expired() == 0
    assert await tus.sweep_expired() == 1


async def test_a_part_cannot_be_deleted_while_its_final_is_assembled(store: Storage) -> None:
    tus, _ = await _setup(store, wait=0.1, stale_after=60)
    tus_headers = _Headers({"Tus-Resumable": "1.0.0"})
    locations = []
    for data in (b"left-", b"right"):
        headers = _Headers({**tus_headers, "Upload-Length": "5", "Upload-Concat": "partial"})
        location = (await tus.create(headers, OWNER))["Location"]
        await tus.patch(location.removeprefix("/files/"), _patch_headers(0), _bytes(data), OWNER)
        locations.append(location)
    release = anyio.Event()
    assemble = store.concatenate

    async def slow_concatenate(upload_id: str, parts: list) -> dict:  # type: ignore[type-arg]
        await release.wait()
        return await assemble(upload_id, parts)

    store.concatenate = slow_concatenate  # type: ignore[method-assign]
    final: dict[str, str] = {}
    part_id = locations[0].removeprefix("/files/")

    async def make_final() -> None:
        concat = _Headers({**tus_headers, "Upload-Concat": "final;" + " ".join(locations)})
        final.update(await tus.create(concat, OWNER))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(make_final)
        await anyio.sleep(0.05)
        with pytest.raises(TusError) as error:  # a clean 4xx, never a half-written final
            await tus.terminate(part_id, tus_headers, OWNER)
        assert error.value.status == 423
        release.set()
    info = await tus.download(final["Location"].removeprefix("/files/"), OWNER)
    assert b"".join([chunk async for chunk in tus.read(info)]) == b"left-right"
    await tus.terminate(part_id, tus_headers, OWNER)  # afterwards it may go; the final stays
    assert b"".join([chunk async for chunk in tus.read(info)]) == b"left-right"
