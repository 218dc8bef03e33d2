"""One raw ASGI request against the app, for what an HTTP client will not send.

The test client joins repeated headers and cannot hang up mid-body; here the test
scripts the receive side itself, and headers arrive exactly as a server passes them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from litestar import Litestar

from server.auth.principal import Principals

from .conftest import SECRET

Headers = list[tuple[bytes, bytes]]
DISCONNECT = {"type": "http.disconnect"}


@dataclass
class RawResponse:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


def session_header() -> tuple[bytes, bytes]:
    """A freshly signed session cookie, as a request header."""
    cookie = Principals(SECRET).new_session_cookie()
    return (b"cookie", f"{cookie.key}={cookie.value}".encode())


def body_events(*chunks: bytes, disconnect: bool = False) -> list[dict[str, object]]:
    """``http.request`` events for ``chunks``; optionally the client hangs up after them."""
    events: list[dict[str, object]] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    if disconnect:
        return [*events, DISCONNECT]
    return [*events, {"type": "http.request", "body": b"", "more_body": False}]


async def request(
    app: Litestar,
    method: str,
    raw_path: str,
    headers: Headers,
    events: Iterable[dict[str, object]] = (),
) -> RawResponse:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path),  # as uvicorn decodes it
        "raw_path": raw_path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending = iter(events or body_events())
    response = RawResponse(0, {}, b"")

    async def receive() -> dict[str, object]:
        return next(pending, DISCONNECT)

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]  # type: ignore[assignment]
            response.headers = dict(message["headers"])  # type: ignore[call-overload]
        else:
            response.body += message.get("body", b"")  # type: ignore[operator]

    await app(scope, receive, send)  # type: ignore[arg-type]
    return response


async def create_upload(app: Litestar, session: tuple[bytes, bytes], length: int) -> str:
    headers = [session, (b"tus-resumable", b"1.0.0"), (b"upload-length", str(length).encode())]
    response = await request(app, "POST", "/files/", headers)
    assert response.status == 201, response.body
    return response.headers[b"location"].decode().removeprefix("/files/")
