"""Litestar handlers for the page, the versioned vendor assets and other public files.

- ``/`` (and ``/index.html``): index.html with ``{{VENDOR}}`` → ``/vendor/<build id>``,
  ``no-cache``; sets the dev session cookie when the request has no valid one.
- ``/dashboard`` (and ``/dashboard.html``): the operators' dashboard, rendered the same way,
  no cookie; the page holds no data: it asks for an admin token and calls the admin APIs.
- ``/vendor/<build id>/<path>``: immutable for a year; a stale build id is a 404. A file
  with a ``.gz`` twin (made by the set-up: Pyodide, its snapshot, ffmpeg's cores) is sent as
  that twin, ``Content-Encoding: gzip``, to a browser that accepts gzip.
- ``/<path>``: everything else in the public dir, ``no-cache`` with ETag and
  Last-Modified (304 on a matching If-None-Match); never vendor/ files.
Files are streamed by `File`, never read whole (the wasm files are tens of MB).
"""

import os
from email.utils import formatdate
from pathlib import Path

import anyio
from litestar import Request, Response, Router, route
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File
from litestar.response.file import create_etag_for_file

from server.auth.principal import Principals
from server.web.media_types import static_media_type
from server.web.site import Site

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
_GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


@route(["/", "/index.html"], http_method=_GET_HEAD, include_in_schema=False)
async def index(
    request: Request, site: NamedDependency[Site], principals: NamedDependency[Principals]
) -> Response[str]:
    cookies = (
        [principals.new_session_cookie()] if principals.resolve_principal(request) is None else []
    )
    return await _page(site, site.index_path, cookies)


@route(["/dashboard", "/dashboard.html"], http_method=_GET_HEAD, include_in_schema=False)
async def dashboard(site: NamedDependency[Site]) -> Response[str]:
    return await _page(site, site.dashboard_path)


@route("/vendor/{build_id:str}/{file_path:path}", http_method=_GET_HEAD, include_in_schema=False)
async def vendor_file(
    request: Request, build_id: FromPath[str], file_path: FromPath[str], site: NamedDependency[Site]
) -> File:
    path = site.vendor_file(build_id, file_path)
    if path is None:
        raise NotFoundException()
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    packed = site.vendor_file(build_id, file_path + ".gz")
    if packed is not None and _accepts_gzip(request.headers.get("accept-encoding")):
        return _file(packed, {**headers, "Content-Encoding": "gzip"}, media_type_of=path)
    return _file(path, headers)


@route("/{file_path:path}", http_method=_GET_HEAD, include_in_schema=False)
async def public_file(
    request: Request, file_path: FromPath[str], site: NamedDependency[Site]
) -> File | Response[None]:
    path = site.public_file(file_path)
    if path is None:
        raise NotFoundException()
    stat = os.stat(path)
    validators = {
        "Cache-Control": NO_CACHE,
        "ETag": create_etag_for_file(path, stat.st_mtime, stat.st_size),
        "Last-Modified": formatdate(stat.st_mtime, usegmt=True),
    }
    if _etag_matches(request.headers.get("if-none-match"), validators["ETag"]):
        return Response(None, status_code=304, headers=validators)
    return _file(path, validators, stat)


def create_static_router() -> Router:
    return Router(path="/", route_handlers=[index, dashboard, vendor_file, public_file])


async def _page(site: Site, path: Path, cookies: list[Cookie] | None = None) -> Response[str]:
    """A page template with ``{{VENDOR}}`` filled in, revalidated on every load."""
    try:
        template = await anyio.Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundException(f"{path.name} is missing from the public directory") from None
    return Response(
        site.render_index(template),
        media_type="text/html",
        headers={"Cache-Control": NO_CACHE},
        cookies=cookies,
    )


def _file(
    path: Path,
    headers: dict[str, str],
    stat: os.stat_result | None = None,
    media_type_of: Path | None = None,
) -> File:
    return File(
        path,
        media_type=static_media_type(media_type_of or path),
        headers=headers,
        content_disposition_type="inline",
        stat_result=stat,
    )


def _accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``gzip;q=0`` refuses it)."""
    for coding in (accept_encoding or "").lower().split(","):
        name, _, params = coding.partition(";")
        if name.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=") or "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
