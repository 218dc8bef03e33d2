"""Litestar adapter for the tus endpoint at ``/files/``: thin, all rules are in `protocol`."""

from collections.abc import AsyncIterator

import msgspec
from litestar import Request, Response, Router, delete, get, head, patch, post, route
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency, Provide
from litestar.enums import HttpMethod, MediaType
from litestar.exceptions import InternalServerException
from litestar.params import FromPath
from litestar.response import Stream
from litestar.types import Message, Scope

from server.auth.principal import Principal, Principals
from server.tus.errors import TUS_VERSION, TusError
from server.tus.protocol import BASE_PATH, TusProtocol
from server.tus.ranges import byte_range
from server.web.media_types import download_media_type

PATH = BASE_PATH


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str


@route("/", http_method=HttpMethod.OPTIONS, status_code=204)
async def discover(tus: NamedDependency[TusProtocol]) -> Response[None]:
    """tus discovery: version, extensions, checksum algorithms and maximum size."""
    return Response(None, status_code=204, headers=tus.options_headers())


@post("/", status_code=201, request_max_body_size=None)
async def create_upload(
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus creation: reserve an upload (Upload-Length, Upload-Defer-Length or Upload-Concat),
    optionally with its first chunk as the body (creation-with-upload)."""
    headers = await tus.create(request.headers, principal, _body_until_disconnect(request))
    return Response(None, status_code=201, headers=headers)


@head("/{upload_id:str}")
async def upload_status(
    upload_id: FromPath[str],
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus HEAD: the current offset, so a client can resume."""
    headers = await tus.head(upload_id, request.headers, principal)
    return Response(None, status_code=200, headers=headers, media_type=MediaType.TEXT)


@patch("/{upload_id:str}", status_code=204, request_max_body_size=None)
async def append_to_upload(
    upload_id: FromPath[str],
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus PATCH: append the streamed body at Upload-Offset."""
    body = _body_until_disconnect(request)
    headers = await tus.patch(upload_id, request.headers, body, principal)
    return Response(None, status_code=204, headers=headers)


@delete("/{upload_id:str}", status_code=204)
async def terminate_upload(
    upload_id: FromPath[str],
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus termination: delete the upload and its bytes."""
    await tus.terminate(upload_id, request.headers, principal)
    return Response(None, status_code=204)


@get("/{upload_id:str}")
async def download_upload(
    upload_id: FromPath[str],
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Stream:
    """Download a finished upload (owner only); one ``Range: bytes=`` range is honoured."""
    info = await tus.download(upload_id, principal)
    size = info.offset
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": "attachment",
        "Cache-Control": "no-store",
    }
    media_type = download_media_type(info.metadata.get("filetype"))
    ranges = request.headers.getall("range", [])
    selected = byte_range(ranges[0], size) if len(ranges) == 1 else None
    if selected is None:
        headers["Content-Length"] = str(size)
        return Stream(tus.read(info), headers=headers, media_type=media_type)
    start, end = selected
    headers["Content-Length"] = str(end - start)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return Stream(
        tus.read(info, start, end), status_code=206, headers=headers, media_type=media_type
    )


def tus_error_response(request: Request, error: TusError) -> Response[ErrorBody | bytes]:
    body = b"" if request.method == HttpMethod.HEAD else ErrorBody(error.code, error.message)
    return Response(
        body,
        status_code=error.status,
        headers=error.headers,
        media_type=MediaType.JSON,
    )


async def add_tus_resumable(message: Message, scope: Scope) -> None:
    """before_send hook: every response under /files carries Tus-Resumable."""
    if message["type"] == "http.response.start" and _is_tus_path(scope.get("path", "")):
        headers = MutableScopeHeaders.from_message(message)
        if "tus-resumable" not in headers:
            headers["Tus-Resumable"] = TUS_VERSION


def create_tus_router(tus: TusProtocol, principals: Principals) -> Router:
    def provide_tus() -> TusProtocol:
        return tus

    def provide_principal(request: Request) -> Principal | None:
        return principals.resolve_principal(request)

    return Router(
        path=PATH,
        route_handlers=[
            discover,
            create_upload,
            upload_status,
            append_to_upload,
            terminate_upload,
            download_upload,
        ],
        dependencies={
            "tus": Provide(provide_tus, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
        },
        exception_handlers={TusError: tus_error_response},
        tags=["tus"],
    )


async def _body_until_disconnect(request: Request) -> AsyncIterator[bytes]:
    """The request body; a client that hangs up simply ends it, so received bytes are kept."""
    try:
        async for chunk in request.stream():
            yield chunk
    except InternalServerException:  # Litestar's signal for http.disconnect mid-body
        return


def _is_tus_path(path: str) -> bool:
    return path == PATH or path.startswith(f"{PATH}/")
