"""tus expiration: Upload-Expires, 410 once expired, and the periodic sweep."""

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.auth.principal import Principal
from server.db.registry import MemoryRegistry
from server.settings import Settings
from server.storage import MemoryStorage
from server.tus.errors import TusError
from server.tus.protocol import TusProtocol

from .tus_requests import OCTETS, TUS, append, create_upload

DAY = 24 * 60 * 60
OWNER = Principal("session", "s1")


def test_unfinished_uploads_say_when_they_expire(client: httpx.Client) -> None:
    created = client.post("/files/", headers={**TUS, "Upload-Length": "4"})
    expires = parsedate_to_datetime(created.headers["Upload-Expires"]).timestamp()
    assert abs(expires - (time.time() + DAY)) < 60
    upload_id = created.headers["Location"].removeprefix("/files/")
    assert "Upload-Expires" in append(client, upload_id, 0, b"ab").headers
    assert "Upload-Expires" in client.head(f"/files/{upload_id}", headers=TUS).headers
    finished = append(client, upload_id, 2, b"cd")
    assert "Upload-Expires" not in finished.headers
    assert "Upload-Expires" not in client.head(f"/files/{upload_id}", headers=TUS).headers


class _Headers(dict[str, str]):
    def getall(self, key: str, default: list[str] | None = None) -> list[str]:
        value = {k.lower(): v for k, v in self.items()}.get(key.lower())
        return [value] if value is not None else (default or [])


TUS_ONLY = _Headers({"Tus-Resumable": "1.0.0"})


def _tus(now: list[float]) -> tuple[TusProtocol, MemoryStorage, MemoryRegistry]:
    storage, registry = MemoryStorage(), MemoryRegistry(lambda: now[0])
    return TusProtocol(storage, registry, 100, expiry=60, clock=lambda: now[0]), storage, registry


async def _create(tus: TusProtocol, length: int) -> str:
    headers = _Headers({"Tus-Resumable": "1.0.0", "Upload-Length": str(length)})
    return (await tus.create(headers, OWNER))["Location"].removeprefix("/files/")


@pytest.mark.anyio
async def test_expired_uploads_answer_410_until_swept() -> None:
    now = [1_000_000.0]
    tus, storage, registry = _tus(now)
    unfinished = await _create(tus, 3)
    finished = await _create(tus, 0)
    now[0] += 59
    assert await tus.sweep_expired() == 0
    await tus.head(unfinished, TUS_ONLY, OWNER)
    now[0] += 2
    for call in (
        tus.head(unfinished, TUS_ONLY, OWNER),
        tus.patch(
            unfinished,
            _Headers({**TUS_ONLY, "Content-Type": OCTETS, "Upload-Offset": "0"}),
            _no_body(),
            OWNER,
        ),
    ):
        with pytest.raises(TusError) as error:
            await call
        assert error.value.status == 410
    assert await tus.sweep_expired() == 1
    assert await registry.get(unfinished) is None and unfinished not in storage.blobs
    assert await registry.get(finished) is not None  # finished uploads never expire


@pytest.mark.anyio
async def test_the_sweep_finishes_complete_uploads_and_never_deletes_them() -> None:
    """All bytes recorded, then the process died before finishing: the sweep finishes it."""
    now = [1_000_000.0]
    tus, storage, registry, upload_id = await _complete_but_unfinished(now)
    assert (await registry.get(upload_id)).is_complete  # type: ignore[union-attr]
    now[0] += 10 * DAY
    assert await tus.sweep_expired() == 0
    info = await registry.get(upload_id)
    assert info is not None and info.finished
    assert bytes(storage.blobs[upload_id]) == b"data"


@pytest.mark.anyio
async def test_head_finishes_a_complete_upload_before_reporting_its_length() -> None:
    now = [1_000_000.0]
    tus, storage, registry, upload_id = await _complete_but_unfinished(now)
    finishing = storage.finish

    async def failing(*args: object) -> dict[str, object]:
        raise OSError("storage down")

    storage.finish = failing  # type: ignore[method-assign]
    with pytest.raises(TusError) as error:  # never offset == length before finished
        await tus.head(upload_id, TUS_ONLY, OWNER)
    assert error.value.status == 503 and error.value.headers["Retry-After"]
    assert not (await registry.get(upload_id)).finished  # type: ignore[union-attr]
    storage.finish = finishing  # type: ignore[method-assign]
    assert (await tus.head(upload_id, TUS_ONLY, OWNER))["Upload-Offset"] == "4"
    assert (await registry.get(upload_id)).finished  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_the_sweep_removes_partials_a_final_holds() -> None:
    now = [1_000_000.0]
    tus, storage, registry = _tus(now)
    parts = []
    for data in (b"ab", b"cd"):
        headers = _Headers({**TUS_ONLY, "Upload-Length": "2", "Upload-Concat": "partial"})
        part = (await tus.create(headers, OWNER))["Location"]
        part_id = part.removeprefix("/files/")
        await tus.patch(part_id, _patch(0), _body(data), OWNER)
        parts.append(part)
    final = await tus.create(
        _Headers({**TUS_ONLY, "Upload-Concat": "final;" + " ".join(parts)}), OWNER
    )
    final_id = final["Location"].removeprefix("/files/")
    assert await tus.sweep_expired() == 2
    assert [await registry.get(p.removeprefix("/files/")) for p in parts] == [None, None]
    assert bytes(storage.blobs[final_id]) == b"abcd"
    assert set(storage.blobs) == {final_id}


async def _complete_but_unfinished(now: list[float]):  # type: ignore[no-untyped-def]
    """An upload whose every byte is stored and recorded, as a crash before finishing leaves it."""
    tus, storage, registry = _tus(now)
    upload_id = await _create(tus, 4)
    await storage.write(upload_id, {}, 0, _body(b"data"), checkpoint=_recorder(registry, upload_id))
    return tus, storage, registry, upload_id


async def _body(*chunks: bytes):  # type: ignore[no-untyped-def]
    for chunk in chunks:
        yield chunk


def _patch(offset: int) -> _Headers:
    return _Headers({**TUS_ONLY, "Content-Type": OCTETS, "Upload-Offset": str(offset)})


def _recorder(registry: MemoryRegistry, upload_id: str):  # type: ignore[no-untyped-def]
    async def checkpoint(offset: int, store: dict[str, object]) -> None:
        await registry.update(upload_id, offset=offset, store=store)

    return checkpoint


async def _no_body():  # type: ignore[no-untyped-def]
    return
    yield b""


def test_the_sweep_runs_in_the_lifespan(make_settings: Callable[..., Settings]) -> None:
    storage = MemoryStorage()
    app = create_app(make_settings(upload_expiry=0.2, sweep_interval=0.05), storage=storage)
    with TestClient(app) as client:
        client.get("/")
        upload_id = create_upload(client, 10)
        deadline = time.monotonic() + 5
        while storage.blobs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upload_id not in storage.blobs
        assert client.head(f"/files/{upload_id}", headers=TUS).status_code == 404


def test_a_failing_sweep_is_logged_and_retried(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    class _Broken(MemoryRegistry):
        async def stale(self, cutoff: float, limit: int):  # type: ignore[no-untyped-def,override]
            raise OSError("database unreachable")

    app = create_app(
        make_settings(sweep_interval=0.02), storage=MemoryStorage(), registry=_Broken()
    )
    with TestClient(app):
        time.sleep(0.2)
    assert caplog.text.count("sweep failed") >= 2


@pytest.mark.anyio
async def test_a_patch_finishes_a_complete_upload_without_writing() -> None:
    now = [1_000_000.0]
    tus, _, registry, upload_id = await _complete_but_unfinished(now)
    reply = await tus.patch(upload_id, _patch(4), _no_body(), OWNER)
    assert reply["Upload-Offset"] == "4"
    assert (await registry.get(upload_id)).finished  # type: ignore[union-attr]
    with pytest.raises(TusError) as error:  # still nothing more may be written
        await tus.patch(upload_id, _patch(4), _body(b"x"), OWNER)
    assert error.value.status == 413
