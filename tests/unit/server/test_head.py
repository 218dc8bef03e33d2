"""HEAD /files/{id}: where to resume."""

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.storage import MemoryStorage
from server.tus.metadata import parse_metadata

from .tus_requests import Call, Expect, append, check, create_upload, metadata

HEAD = Call("HEAD")


def test_fresh_upload(client: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    check(
        client,
        HEAD,
        Expect(
            200,
            headers={
                "Upload-Offset": "0",
                "Upload-Length": "10",
                "Cache-Control": "no-store",
                "Tus-Resumable": "1.0.0",
            },
            absent=("Upload-Metadata",),
        ),
        upload_id,
    )


def test_metadata_is_re_encoded(client: httpx.Client) -> None:
    sent = {"filename": "clip é.mov", "filetype": "video/quicktime", "bypass": ""}
    upload_id = create_upload(
        client, 10, metadata(filename=sent["filename"], filetype=sent["filetype"]) + ",bypass"
    )
    response = check(client, HEAD, Expect(200), upload_id)
    assert parse_metadata(response.headers["Upload-Metadata"]) == sent


def test_offset_follows_patches(client: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    assert append(client, upload_id, 0, b"12345").status_code == 204
    check(client, HEAD, Expect(200, headers={"Upload-Offset": "5"}), upload_id)


CASES = {
    "no Tus-Resumable": (Call("HEAD", tus=False), Expect(412, headers={"Tus-Version": "1.0.0"})),
    "unknown id": (Call("HEAD", "/files/" + "0" * 32), Expect(404)),
    "uppercase id": (Call("HEAD", "/files/" + "A" * 32), Expect(404)),
    "short id": (Call("HEAD", "/files/abc"), Expect(404)),
    "traversal id": (Call("HEAD", "/files/..%2F..%2Fetc"), Expect(404)),
}


@pytest.mark.parametrize(("call", "expect"), CASES.values(), ids=CASES.keys())
def test_errors(client: httpx.Client, call: Call, expect: Expect) -> None:
    response = check(client, call, expect, create_upload(client, 10))
    assert response.content == b""  # HEAD answers never have a body


def test_needs_a_session(client: httpx.Client, anonymous: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    check(anonymous, HEAD, Expect(401), upload_id)


def test_another_principal_sees_nothing(client: httpx.Client, stranger: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    check(stranger, HEAD, Expect(404), upload_id)


class _CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[str] = []

    async def get(self, upload_id: str):  # type: ignore[no-untyped-def]
        self.lookups.append(upload_id)
        return await super().get(upload_id)


@pytest.mark.parametrize("bad_id", ["abc", "..%2F..%2Fetc", "G" * 32, "0" * 31, "0" * 33])
def test_malformed_ids_never_reach_storage(make_settings, bad_id: str) -> None:
    storage = _CountingStorage()
    with TestClient(create_app(make_settings(), storage=storage)) as client:
        client.get("/")
        check(client, Call("HEAD", f"/files/{bad_id}"), Expect(404))
        check(
            client,
            Call(
                "PATCH",
                f"/files/{bad_id}",
                headers={"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
            ),
            Expect(404),
        )
        check(client, Call("GET", f"/files/{bad_id}"), Expect(404))
    assert storage.lookups == []
