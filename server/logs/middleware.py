"""Request timing and tracing: an ASGI wrapper around the whole app.

For each HTTP request it
- takes the caller's ``X-Request-ID`` when it is a safe token (1-64 of ``A-Z a-z 0-9 . _ -``),
  else makes one (16 hex digits, never mistaken for an upload id), and returns it in the
  ``X-Request-ID`` response header;
- puts a `RequestContext` in a contextvar, so every log line written meanwhile carries the
  request id, method, route template and upload id (from ``/files/<32 hex>``, or for a
  creation from the ``Location`` it answers with): one upload can be followed across its
  POST, PATCHes and HEADs by ``upload_id``;
- notes this request's own ``Upload-Metadata`` values and token case reference, which the
  scrubber then removes from any line that would quote them;
- writes one ``medpress.access`` line at INFO when the request ends: method, route template,
  status and duration.

It only wraps ``send`` (to read the status and add the header); ``receive`` is passed on
untouched, so streamed PATCH bodies go through without a copy, and lifespan and websocket
scopes pass straight through, as does a request an outer `request_logging` already has (so
wrapping twice logs once). Install it around ``app.asgi_handler`` (as
`server.web.method_override` is), inside the method override so it sees the routed method:
``app.asgi_handler = method_override(request_logging(app.asgi_handler))``. As a Litestar
``middleware=[...]`` entry it would only see requests that matched a route (no 404s).
"""

import base64
import binascii
import logging
import re
import secrets
import time

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.logs import context

access_log = logging.getLogger("medpress.access")

HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_UPLOAD_PATH = re.compile(r"/files/([0-9a-f]{32})(?![0-9a-f])")
_decode_json = msgspec.json.Decoder().decode


def request_logging(app: ASGIApp) -> ASGIApp:
    """``app`` with each HTTP request timed, given a request id and logged once."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or context.current() is not None:
            await app(scope, receive, send)  # not a request, or an outer wrapper has it
            return
        started = time.perf_counter()
        request_id, metadata, authorization = _read_headers(scope["headers"])
        path_id = _UPLOAD_PATH.match(scope["path"])
        active = context.RequestContext(
            request_id, scope["method"], scope, path_id[1] if path_id else None
        )
        if metadata is not None:
            _note_metadata(active, metadata)
        if authorization is not None:
            _note_case(active, authorization)
        header = (HEADER, request_id.encode("ascii"))
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or ())
                if active.upload_id is None:
                    active.upload_id = _created_upload(headers)
                headers.append(header)
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        token = context.enter(active)
        try:
            await app(scope, receive, send_with_id)
        except Exception:  # the client sees a 500 (a cancelled request keeps no status)
            status = status or 500
            raise
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            route = active.route
            access_log.info(
                "%s %s %s %.1fms",
                active.method,
                route or "-",
                status if status is not None else "-",
                elapsed,
                extra={"status": status, "duration_ms": elapsed, "route": route},
            )
            context.leave(token)

    return handle


def _read_headers(headers: object) -> tuple[str, bytes | None, bytes | None]:
    request_id: str | None = None
    metadata = authorization = None
    for name, value in headers:  # type: ignore[attr-defined]
        lowered = name.lower()
        if lowered == HEADER:
            if _SAFE_REQUEST_ID.fullmatch(value):
                request_id = value.decode("ascii")
        elif lowered == b"upload-metadata":
            metadata = value
        elif lowered == b"authorization":
            authorization = value
    return request_id or secrets.token_hex(8), metadata, authorization


def _note_metadata(active: context.RequestContext, header: bytes) -> None:
    """Every value of a tus ``Upload-Metadata`` header, raw and decoded, as sensitive."""
    for pair in header.decode("latin-1").split(","):
        _, _, encoded = pair.strip().partition(" ")
        if not encoded:
            continue
        active.add_sensitive(encoded)
        try:
            active.add_sensitive(base64.b64decode(encoded, validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass


def _note_case(active: context.RequestContext, header: bytes) -> None:
    """The case reference in a medpress Bearer token (read, not verified: only to hide it)."""
    parts = header.decode("latin-1").removeprefix("Bearer ").strip().split(".")
    if len(parts) != 3 or parts[0] != "mp1":
        return
    payload = parts[1]
    try:
        claims = _decode_json(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return
    if isinstance(claims, dict) and isinstance(claims.get("case"), str):
        active.add_sensitive(claims["case"])


def _created_upload(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"location":
            found = _UPLOAD_PATH.search(value.decode("latin-1"))
            return found[1] if found else None
    return None
