"""tus expiration: Upload-Expires, 410 once expired, and the periodic sweep."""

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.auth.principal import Principal
from server.settings import Settings
from server.storage import MemoryStorage
from server.tus.protocol import TusProtocol

from .tus_requests import OCTETS, TUS, append, create_upload

DAY = 24 * 60 * 60


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


@pytest.mark.anyio
async def test_expired_uploads_answer_410_until_swept() -> None:
    now = [1_000_000.0]
    storage = MemoryStorage()
    tus = TusProtocol(storage, max_size=100, expiry=60, clock=lambda: now[0])
    owner = Principal("session", "s1")
    tus_headers = _Headers({"Tus-Resumable": "1.0.0"})
    unfinished = (await tus.create(_Headers({**tus_headers, "Upload-Length": "3"}), owner))[
        "Location"
    ].removeprefix("/files/")
    finished = (await tus.create(_Headers({**tus_headers, "Upload-Length": "0"}), owner))[
        "Location"
    ].removeprefix("/files/")
    now[0] = time.time() + 59
    assert await tus.sweep_expired() == 0
    await tus.head(unfinished, tus_headers, owner)
    now[0] = time.time() + 61
    for call in (
        tus.head(unfinished, tus_headers, owner),
        tus.patch(
            unfinished,
            _Headers({**tus_headers, "Content-Type": OCTETS, "Upload-Offset": "0"}),
            _no_body(),
            owner,
        ),
    ):
        with pytest.raises(Exception) as error:
            await call
        assert getattr(error.value, "status", None) == 410
    assert await tus.sweep_expired() == 1
    assert await storage.get(unfinished) is None
    assert await storage.get(finished) is not None  # finished uploads never expire


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
        while storage._uploads and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upload_id not in storage._uploads
        assert client.head(f"/files/{upload_id}", headers=TUS).status_code == 404


def test_a_failing_sweep_is_logged_and_retried(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    class _Broken(MemoryStorage):
        async def list_ids(self):  # type: ignore[no-untyped-def,override]
            raise OSError("bucket unreachable")
            yield ""

    app = create_app(make_settings(sweep_interval=0.02), storage=_Broken())
    with TestClient(app):
        time.sleep(0.2)
    assert caplog.text.count("sweep for expired uploads failed") >= 2
