"""Malformed requests of every kind get a short 4xx, never a 5xx.

Requests go to the app as raw ASGI, so headers arrive exactly as a server would
pass them on: repeated, empty, non-ASCII, huge.
"""

import itertools
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from server.app import create_app
from server.storage import MemoryStorage

from . import raw_asgi

pytestmark = pytest.mark.anyio

Headers = raw_asgi.Headers
OCTETS = b"application/offset+octet-stream"

BAD_NUMBERS = [
    b"",
    b" ",
    b"-1",
    b"abc",
    b"1.5",
    b"1e9",
    b"0x10",
    b"+5",
    b" 5",
    b"5 ",
    b"1_000",
    b"9" * 40,
    str(2**63).encode(),
    "١٢".encode(),
    b"\xff",
    b"1, 2",
]
BAD_METADATA = [
    b"filename",
    b"filename !!!",
    b"filename YQ",
    b",,,",
    b" ",
    b"a b c",
    b"filename  YQ==",
    b"filename " + b"A" * 8000,
    b"filename //79",
    b"\xff\xfe",
    b"filename YQ==,filename YQ==",
    b"patient_name YQ==",
    b"file name YQ==",
    b"filename YQ==,",
    b"\x00 YQ==",
]
BAD_IDS = [
    "..%2F..%2Fetc",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "a" * 10000,
    "A" * 32,
    "0" * 31,
    "{id}%2F..",
    "{id}.info",
    "{id}/extra",
    "%ff%fe",
    "..",
    "%2e%2e",
    "{id}%00",
]
BAD_TUS = [b"", b"1.0.0, 1.0.0", b"0.2.2", b"\xff", b"1.0.0 "]
BAD_CONTENT_TYPES = [b"", b";", b"application/offset+octet-stream; charset", b"\xff", b"text/plain"]
BAD_COOKIES = [
    b"medpress_session=",
    b"medpress_session=a.b",
    b"medpress_session=" + b"f" * 5000,
    b"\xff=\xfe",
    b"=;;=",
]


def _with(base: Headers, name: bytes, value: bytes) -> Headers:
    return [(k, v) for k, v in base if k != name] + [(name, value)]


def _cases(session: tuple[bytes, bytes], upload_id: str) -> list[tuple[str, str, Headers, bytes]]:
    cookie = session
    tus = (b"tus-resumable", b"1.0.0")
    post: Headers = [cookie, tus, (b"upload-length", b"10")]
    patch: Headers = [cookie, tus, (b"content-type", OCTETS), (b"upload-offset", b"0")]
    item = f"/files/{upload_id}"
    cases: list[tuple[str, str, Headers, bytes]] = []
    for value in BAD_NUMBERS:
        cases.append(("POST", "/files/", _with(post, b"upload-length", value), b""))
        cases.append(("PATCH", item, _with(patch, b"upload-offset", value), b"abc"))
        cases.append(("PATCH", item, _with(patch, b"content-length", value), b"abc"))
    for value in BAD_METADATA:
        cases.append(("POST", "/files/", post + [(b"upload-metadata", value)], b""))
    for value in BAD_TUS:
        for method, path, base in (
            ("POST", "/files/", post),
            ("PATCH", item, patch),
            ("HEAD", item, patch),
        ):
            cases.append((method, path, _with(base, b"tus-resumable", value), b""))
    for value in BAD_CONTENT_TYPES:
        cases.append(("PATCH", item, _with(patch, b"content-type", value), b"abc"))
    for value in BAD_COOKIES:
        cases.append(("POST", "/files/", _with(post, b"cookie", value), b""))
        cases.append(("GET", "/", [(b"cookie", value)], b""))
    for name in (b"upload-length", b"tus-resumable", b"upload-metadata"):
        cases.append(
            ("POST", "/files/", post + [(name, dict(post).get(name, b"filename YQ=="))], b"")
        )
    for name in (b"upload-offset", b"content-type", b"tus-resumable"):
        cases.append(("PATCH", item, patch + [(name, dict(patch)[name])], b"abc"))
    cases.append(("POST", "/files/", post + [(b"upload-defer-length", b"1")], b""))
    cases.append(("PATCH", item, patch, b"x" * 11))  # longer than the upload
    cases.append(("PATCH", item, _with(patch, b"upload-offset", b"7"), b"abc"))
    methods = ["GET", "HEAD", "PATCH", "POST", "OPTIONS", "DELETE", "PUT"]
    for bad_id, method in itertools.product(BAD_IDS, methods):
        cases.append((method, "/files/" + bad_id.replace("{id}", upload_id), patch, b"abc"))
    for path in [
        "/vendor/x/..%2F..%2Fetc%2Fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%00",
        "/vendor/%00/a",
        "/" + "a" * 5000,
    ]:
        cases.append(("GET", path, [], b""))
    return cases


@pytest.fixture
async def app(make_settings) -> AsyncIterator[Litestar]:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(max_upload_size=1000), storage=MemoryStorage())
    async with app.lifespan():
        yield app


async def test_malformed_requests_never_cause_a_server_error(app: Litestar) -> None:
    session = raw_asgi.session_header()
    upload_id = await raw_asgi.create_upload(app, session, length=10)

    failures = []
    cases = _cases(session, upload_id)
    for method, path, request_headers, body in cases:
        response = await raw_asgi.request(
            app, method, path, request_headers, raw_asgi.body_events(body)
        )
        if not 200 <= response.status < 500 or (
            response.status >= 400 and len(response.body) > 1024
        ):
            failures.append((response.status, method, path[:60], request_headers[-1]))
    assert not failures, failures
    assert len(cases) > 150


@pytest.mark.parametrize(
    "name", [b"upload-length", b"tus-resumable", b"upload-metadata", b"upload-defer-length"]
)
async def test_repeated_headers_are_refused(app: Litestar, name: bytes) -> None:
    value = {b"upload-length": b"10", b"tus-resumable": b"1.0.0"}.get(name, b"bypass")
    headers = [raw_asgi.session_header(), (b"tus-resumable", b"1.0.0"), (b"upload-length", b"10")]
    response = await raw_asgi.request(
        app, "POST", "/files/", [*headers, (name, value), (name, value)]
    )
    assert response.status == 400
    assert b"ERR_DUPLICATE_HEADER" in response.body
