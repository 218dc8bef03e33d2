"""Per-principal limits: unfinished uploads at once, bytes started per day (429 + Retry-After)."""

import time
from collections.abc import Callable

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.db.database import Database
from server.db.registry import UploadInfo
from server.settings import Settings
from server.storage import MemoryStorage, new_upload_id

from .tus_requests import TUS, append, create_upload

pytestmark = pytest.mark.anyio


@pytest.fixture
def limited(make_settings: Callable[..., Settings]) -> TestClient:
    settings = make_settings(max_active_uploads=2, max_bytes_per_day=100)
    with TestClient(create_app(settings, storage=MemoryStorage())) as client:
        client.get("/")
        yield client


def _post(client: httpx.Client, length: int) -> httpx.Response:
    return client.post("/files/", headers={**TUS, "Upload-Length": str(length)})


def test_too_many_unfinished_uploads_wait_their_turn(limited: TestClient) -> None:
    first = create_upload(limited, 10)
    create_upload(limited, 10)
    refused = _post(limited, 10)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.json()["code"] == "ERR_TOO_MANY_UPLOADS"
    append(limited, first, 0, b"0123456789")  # one finishes: room for another
    assert _post(limited, 10).status_code == 201


def test_bytes_per_day_are_capped(limited: TestClient) -> None:
    upload = create_upload(limited, 60)
    append(limited, upload, 0, b"x" * 60)
    refused = _post(limited, 41)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    assert refused.json()["code"] == "ERR_DAILY_LIMIT_REACHED"
    assert _post(limited, 40).status_code == 201


def test_deferred_lengths_count_once_declared(limited: TestClient) -> None:
    created = limited.post("/files/", headers={**TUS, "Upload-Defer-Length": "1"})
    assert created.status_code == 201
    path = created.headers["Location"]
    declared = limited.patch(
        path,
        headers={
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
            "Upload-Length": "101",
        },
        content=b"",
    )
    assert declared.status_code == 429


async def test_usage_counts_what_a_principal_has_under_way(database: Database) -> None:
    registry, now = database.registry, time.time()

    async def add(owner: str, **fields: object) -> None:
        values = {"length": 10, "created_at": now, "updated_at": now, **fields}
        await registry.add(UploadInfo(id=new_upload_id(), owner=owner, **values))  # type: ignore[arg-type]

    await add("user:a")
    await add("user:a", state="finished")
    await add("user:a", length=None, offset=7)
    await add("user:a", concat="final", state="finished", length=20)
    await add("user:a", concat="partial", state="finished", concatenated_into="f" * 32)  # in it
    await add("user:a", created_at=now - 2 * 86400, updated_at=now - 2 * 86400)  # stale, old
    await add("user:b", length=1000)
    usage = await registry.usage("user:a", active_since=now - 3600, created_since=now - 86400)
    assert (usage.active, usage.bytes) == (2, 47)
