"""tus 1.0 core + creation: every protocol rule lives here, free of the web framework.

The Litestar controller hands over headers, the principal and the body stream;
this module checks versions, ownership, offsets and sizes, drives the storage,
and raises `TusError` from the catalogue. Logs carry ids, sizes and codes only.
"""

import logging
from collections.abc import AsyncIterable, AsyncIterator

from server.principal import Principal
from server.storage import Capability, Storage, Upload, UploadInfo, is_upload_id
from server.tus import errors
from server.tus.errors import TUS_VERSION, TusError
from server.tus.headers import HeaderReader, byte_count, media_type, single
from server.tus.metadata import parse_metadata

log = logging.getLogger("medpress.tus")

IMPLEMENTED_EXTENSIONS = (Capability.CREATION,)
PATCH_CONTENT_TYPE = "application/offset+octet-stream"


class TusProtocol:
    def __init__(self, storage: Storage, max_size: int) -> None:
        self._storage = storage
        self._max_size = max_size
        self._busy: set[str] = set()

    def options_headers(self) -> dict[str, str]:
        headers = {"Tus-Version": TUS_VERSION, "Tus-Max-Size": str(self._max_size)}
        extensions = [c.value for c in IMPLEMENTED_EXTENSIONS if c in self._storage.capabilities]
        if extensions:
            headers["Tus-Extension"] = ",".join(extensions)
        return headers

    async def create(self, headers: HeaderReader, principal: Principal | None) -> str:
        """Reserve an upload of Upload-Length bytes; return its id."""
        _require_version(headers)
        owner = _require_principal(principal)
        if single(headers, "Upload-Defer-Length") is not None:
            raise TusError(errors.DEFER_LENGTH_UNSUPPORTED)
        raw_length = single(headers, "Upload-Length")
        if raw_length is None:
            raise TusError(errors.INVALID_UPLOAD_LENGTH, "Upload-Length is required.")
        length = byte_count(raw_length, errors.INVALID_UPLOAD_LENGTH)
        if length > self._max_size:
            raise TusError(errors.MAX_SIZE_EXCEEDED)
        metadata = parse_metadata(single(headers, "Upload-Metadata"))
        upload = await self._storage.create(length, metadata, owner)
        log.info("upload created id=%s length=%d", upload.id, length)
        if length == 0:
            await upload.finish()
            log.info("upload complete id=%s size=0", upload.id)
        return upload.id

    async def head(
        self, upload_id: str, headers: HeaderReader, principal: Principal | None
    ) -> UploadInfo:
        _require_version(headers)
        upload = await self._owned_upload(upload_id, principal)
        return await upload.info()

    async def patch(
        self,
        upload_id: str,
        headers: HeaderReader,
        body: AsyncIterable[bytes],
        principal: Principal | None,
    ) -> int:
        """Append ``body``; return the new offset (durable before this returns)."""
        _require_version(headers)
        _require_principal(principal)
        content_type = single(headers, "Content-Type")
        if content_type is None or media_type(content_type) != PATCH_CONTENT_TYPE:
            raise TusError(errors.INVALID_CONTENT_TYPE)
        raw_offset = single(headers, "Upload-Offset")
        if raw_offset is None:
            raise TusError(errors.INVALID_OFFSET, "Upload-Offset is required.")
        offset = byte_count(raw_offset, errors.INVALID_OFFSET)
        raw_content_length = single(headers, "Content-Length")
        content_length = (
            None
            if raw_content_length is None
            else byte_count(raw_content_length, errors.INVALID_CONTENT_LENGTH)
        )
        upload = await self._owned_upload(upload_id, principal)
        if upload_id in self._busy:
            raise TusError(errors.UPLOAD_LOCKED)
        self._busy.add(upload_id)
        try:
            return await self._append(upload, offset, content_length, body)
        finally:
            self._busy.discard(upload_id)

    async def download(
        self, upload_id: str, principal: Principal | None
    ) -> tuple[UploadInfo, Upload]:
        upload = await self._owned_upload(upload_id, principal)
        info = await upload.info()
        if not info.is_complete:
            raise TusError(errors.UPLOAD_NOT_FINISHED)
        if not info.finished:
            await upload.finish()
        return info, upload

    async def _append(
        self, upload: Upload, offset: int, content_length: int | None, body: AsyncIterable[bytes]
    ) -> int:
        info = await upload.info()
        if offset != info.offset:
            raise TusError(errors.MISMATCHED_OFFSET)
        remaining = info.length - offset
        if content_length is not None and content_length > remaining:
            raise TusError(errors.UPLOAD_SIZE_EXCEEDED)
        limited = _LimitedBody(body, remaining)
        new_offset = await upload.write_chunk(offset, limited)
        log.info("upload chunk id=%s offset=%d..%d", upload.id, offset, new_offset)
        if new_offset == info.length and not info.finished:
            await upload.finish()
            log.info("upload complete id=%s size=%d", upload.id, new_offset)
        if limited.overflowed:
            raise TusError(errors.UPLOAD_SIZE_EXCEEDED)
        return new_offset

    async def _owned_upload(self, upload_id: str, principal: Principal | None) -> Upload:
        owner = _require_principal(principal)
        if not is_upload_id(upload_id):
            raise TusError(errors.UPLOAD_NOT_FOUND)
        upload = await self._storage.get(upload_id)
        if upload is None or (await upload.info()).owner != owner:
            raise TusError(errors.UPLOAD_NOT_FOUND)
        return upload


class _LimitedBody:
    """Yields at most ``limit`` bytes of ``body``; notes (and stops at) anything beyond."""

    def __init__(self, body: AsyncIterable[bytes], limit: int) -> None:
        self._body = body
        self._limit = limit
        self.overflowed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        left = self._limit
        async for chunk in self._body:
            if len(chunk) > left:
                self.overflowed = True
                if left:
                    yield chunk[:left]
                return
            left -= len(chunk)
            if chunk:
                yield chunk


def _require_version(headers: HeaderReader) -> None:
    if single(headers, "Tus-Resumable") != TUS_VERSION:
        raise TusError(errors.UNSUPPORTED_VERSION)


def _require_principal(principal: Principal | None) -> str:
    if principal is None:
        raise TusError(errors.NOT_SIGNED_IN)
    return principal.owner
