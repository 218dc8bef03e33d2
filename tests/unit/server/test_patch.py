"""PATCH /files/{id}: append streamed bytes at Upload-Offset."""

from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest
from litestar import Litestar

from server.auth.principal import Principal
from server.db.registry import MemoryRegistry
from server.storage import MemoryStorage
from server.tus.errors import TusError
from server.tus.protocol import TusProtocol

from . import raw_asgi
from .tus_requests import OCTETS, Call, Expect, append, check, create_upload, offset_of


def _patch(
    offset: str | None = "0", content_type: str | None = OCTETS, body: bytes = b"abc", **extra: str
) -> Call:
    headers = {**extra}
    if offset is not None:
        headers["Upload-Offset"] = offset
    if content_type is not None:
        headers["Content-Type"] = content_type
    return Call("PATCH", headers=headers, body=body)


CASES = {
    "append": (_patch(), Expect(204, headers={"Upload-Offset": "3", "Tus-Resumable": "1.0.0"})),
    "fill exactly": (_patch(body=b"0123456789"), Expect(204, headers={"Upload-Offset": "10"})),
    "content type with parameters": (_patch(content_type=OCTETS + "; x=y"), Expect(204)),
    "empty body": (_patch(body=b""), Expect(204, headers={"Upload-Offset": "0"})),
    "no Tus-Resumable": (
        Call("PATCH", headers={"Upload-Offset": "0", "Content-Type": OCTETS}, tus=False),
        Expect(412),
    ),
    "no content type": (_patch(content_type=None), Expect(415, code="ERR_INVALID_CONTENT_TYPE")),
    "wrong content type": (_patch(content_type="application/octet-stream"), Expect(415)),
    "no offset": (_patch(offset=None), Expect(400, code="ERR_INVALID_OFFSET")),
    "negative offset": (_patch(offset="-1"), Expect(400, code="ERR_INVALID_OFFSET")),
    "word offset": (_patch(offset="zero"), Expect(400)),
    "overflowing offset": (_patch(offset="9" * 30), Expect(400)),
    "offset ahead": (_patch(offset="5"), Expect(409, code="ERR_MISMATCHED_OFFSET")),
    "too many bytes": (_patch(body=b"x" * 11), Expect(413, code="ERR_UPLOAD_SIZE_EXCEEDED")),
    "unknown id": (
        Call("PATCH", "/files/" + "1" * 32, headers={"Upload-Offset": "0", "Content-Type": OCTETS}),
        Expect(404),
    ),
}


@pytest.mark.parametrize(("call", "expect"), CASES.values(), ids=CASES.keys())
def test_patch(client: httpx.Client, call: Call, expect: Expect) -> None:
    upload_id = create_upload(client, 10)
    check(client, call, expect, upload_id)


def test_chunks_resume_from_the_offset(client: httpx.Client) -> None:
    upload_id = create_upload(client, 6)
    assert append(client, upload_id, 0, b"abc").headers["Upload-Offset"] == "3"
    assert append(client, upload_id, 0, b"xyz").status_code == 409
    assert append(client, upload_id, 3, b"def").headers["Upload-Offset"] == "6"
    assert client.get(f"/files/{upload_id}").content == b"abcdef"
    # a finished upload accepts an empty PATCH at its end, and nothing more
    assert append(client, upload_id, 6, b"").status_code == 204
    assert append(client, upload_id, 6, b"!").status_code == 413


def test_declared_overflow_stores_nothing(client: httpx.Client) -> None:
    upload_id = create_upload(client, 4)
    assert append(client, upload_id, 0, b"123456").status_code == 413
    assert offset_of(client, upload_id) == 0


def test_streamed_overflow_stores_nothing(client: httpx.Client) -> None:
    """Without Content-Length an overflow shows only at the end: the whole chunk is refused."""
    upload_id = create_upload(client, 4)
    response = append(
        client, upload_id, 0, iter([b"12", b"34", b"56"])
    )  # chunked: no Content-Length
    assert response.status_code == 413
    assert offset_of(client, upload_id) == 0
    assert append(client, upload_id, 0, iter([b"12", b"34"])).status_code == 204
    assert client.get(f"/files/{upload_id}").content == b"1234"


def test_more_than_ten_megabytes_in_one_patch(client: httpx.Client) -> None:
    chunk = bytes(range(256)) * 256  # 64 KiB
    count = 12 * 16  # 12 MiB, over Litestar's default 10 MB body limit

    def body() -> Iterator[bytes]:
        for _ in range(count):
            yield chunk

    upload_id = create_upload(client, len(chunk) * count)
    response = append(client, upload_id, 0, body())
    assert response.status_code == 204, response.text
    assert response.headers["Upload-Offset"] == str(len(chunk) * count)
    downloaded = client.get(f"/files/{upload_id}").content
    assert downloaded == chunk * count


def test_needs_a_session(client: httpx.Client, anonymous: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    check(anonymous, _patch(), Expect(401), upload_id)


def test_another_principal_cannot_write(client: httpx.Client, stranger: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    check(stranger, _patch(), Expect(404), upload_id)
    assert offset_of(client, upload_id) == 0


@pytest.mark.anyio
async def test_disconnect_mid_body_keeps_what_arrived(running_app: Litestar) -> None:
    """A client that drops mid-PATCH resumes from the bytes the server received."""
    session = raw_asgi.session_header()
    upload_id = await raw_asgi.create_upload(running_app, session, length=100)
    patch_headers = [
        session,
        (b"tus-resumable", b"1.0.0"),
        (b"content-type", OCTETS.encode()),
        (b"upload-offset", b"0"),
    ]
    events = raw_asgi.body_events(b"a" * 30, b"b" * 12, disconnect=True)
    await raw_asgi.request(running_app, "PATCH", f"/files/{upload_id}", patch_headers, events)
    head = await raw_asgi.request(running_app, "HEAD", f"/files/{upload_id}", patch_headers[:2])
    assert head.status == 200
    assert head.headers[b"upload-offset"] == b"42"


@pytest.mark.anyio
async def test_concurrent_patch_on_one_upload_is_locked() -> None:
    tus = TusProtocol(MemoryStorage(), MemoryRegistry(), max_size=100)  # no lock wait: 423 at once
    owner = Principal("session", "s1")
    headers = _Headers({"Tus-Resumable": "1.0.0", "Content-Type": OCTETS, "Upload-Offset": "0"})
    created = await tus.create(_Headers({"Tus-Resumable": "1.0.0", "Upload-Length": "10"}), owner)
    upload_id = created["Location"].removeprefix("/files/")
    release = anyio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"12345"
        await release.wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(tus.patch, upload_id, headers, slow_body(), owner)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(TusError) as error:
            await tus.patch(upload_id, headers, _empty(), owner)
        assert error.value.code == "ERR_UPLOAD_LOCKED"
        release.set()
    assert (await tus.head(upload_id, headers, owner))["Upload-Offset"] == "5"


class _Headers:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = {k.lower(): v for k, v in values.items()}

    def getall(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self._values.get(key.lower())
        return [value] if value is not None else (default or [])


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""
