"""Litestar adapter for the tus endpoint at ``/files/``: thin, all rules are in `protocol`."""

from collections.abc import AsyncIterator

import msgspec
from litestar import Request, Response, Router, get, head, patch, post, route
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency, Provide
from litestar.enums import HttpMethod, MediaType
from litestar.exceptions import InternalServerException
from litestar.params import FromPath
from litestar.response import Stream
from litestar.types import Message, Scope

from server.media_types import download_media_type
from server.principal import Principal, Principals
from server.tus.errors import TUS_VERSION, TusError
from server.tus.metadata import encode_metadata
from server.tus.protocol import TusProtocol

PATH = "/files"


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str


@route("/", http_method=HttpMethod.OPTIONS, status_code=204)
async def discover(tus: NamedDependency[TusProtocol]) -> Response[None]:
    """tus discovery: version, extensions and maximum size."""
    return Response(None, status_code=204, headers=tus.options_headers())


@post("/", status_code=201)
async def create_upload(
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus creation: reserve an upload of Upload-Length bytes."""
    upload_id = await tus.create(request.headers, principal)
    return Response(None, status_code=201, headers={"Location": f"{PATH}/{upload_id}"})


@head("/{upload_id:str}")
async def upload_status(
    upload_id: FromPath[str],
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus HEAD: the current offset, so a client can resume."""
    info = await tus.head(upload_id, request.headers, principal)
    headers = {
        "Upload-Offset": str(info.offset),
        "Upload-Length": str(info.length),
        "Cache-Control": "no-store",
    }
    if info.metadata:
        headers["Upload-Metadata"] = encode_metadata(info.metadata)
    return Response(None, status_code=200, headers=headers, media_type=MediaType.TEXT)


@patch("/{upload_id:str}", status_code=204, request_max_body_size=None)
async def append_to_upload(
    upload_id: FromPath[str],
    request: Request,
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Response[None]:
    """tus PATCH: append the streamed body at Upload-Offset."""
    offset = await tus.patch(upload_id, request.headers, _body_until_disconnect(request), principal)
    return Response(None, status_code=204, headers={"Upload-Offset": str(offset)})


@get("/{upload_id:str}")
async def download_upload(
    upload_id: FromPath[str],
    tus: NamedDependency[TusProtocol],
    principal: NamedDependency[Principal | None],
) -> Stream:
    """Download a finished upload (owner only)."""
    info, upload = await tus.download(upload_id, principal)
    headers = {
        "Content-Length": str(info.length),
        "Content-Disposition": "attachment",
        "Cache-Control": "no-store",
    }
    media_type = download_media_type(info.metadata.get("filetype"))
    return Stream(upload.read(), headers=headers, media_type=media_type)


def tus_error_response(request: Request, error: TusError) -> Response[ErrorBody | bytes]:
    body = b"" if request.method == HttpMethod.HEAD else ErrorBody(error.code, error.message)
    return Response(
        body,
        status_code=error.status,
        headers=dict(error.kind.headers),
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
        route_handlers=[discover, create_upload, upload_status, append_to_upload, download_upload],
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
