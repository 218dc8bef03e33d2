"""tus 1.0 and its extensions: every protocol rule lives here, free of the web framework.

The Litestar controller hands over headers, the principal and the body stream;
this module checks versions, ownership, expiry, offsets, lengths and checksums,
drives the storage, and answers with response headers or a `TusError` from the
catalogue. Logs carry ids, sizes and codes only (never metadata or case refs).

Extensions: creation, creation-with-upload, creation-defer-length, expiration,
checksum, termination, concatenation; each is advertised, and accepted, only
when the storage declares the matching `Capability`.
"""

import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate

from server.auth.principal import Principal
from server.storage import (
    Capability,
    Lister,
    NewUpload,
    Storage,
    Terminator,
    Upload,
    UploadInfo,
    create_final,
    is_upload_id,
)
from server.tus import errors
from server.tus.checksum import ALGORITHMS, ChunkChecksum
from server.tus.concat import format_concat, parse_concat
from server.tus.errors import TUS_VERSION, TusError
from server.tus.headers import HeaderReader, byte_count, media_type, single
from server.tus.locks import UploadLocks
from server.tus.metadata import MAX_HEADER_BYTES, encode_metadata, parse_metadata

log = logging.getLogger("medpress.tus")

PATCH_CONTENT_TYPE = "application/offset+octet-stream"
BASE_PATH = "/files"


class TusProtocol:
    def __init__(
        self,
        storage: Storage,
        max_size: int,
        *,
        expiry: float | None = None,
        locks: UploadLocks | None = None,
        max_metadata_size: int = MAX_HEADER_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage = storage
        self._max_size = max_size
        self._locks = locks or UploadLocks()
        self._max_metadata_size = max_metadata_size
        self._clock = clock
        self.extensions = tuple(c for c in Capability if c in storage.capabilities)
        self._expiry = expiry if self._supports(Capability.EXPIRATION) else None

    def options_headers(self) -> dict[str, str]:
        headers = {"Tus-Version": TUS_VERSION}
        if self._max_size:
            headers["Tus-Max-Size"] = str(self._max_size)
        if self.extensions:
            headers["Tus-Extension"] = ",".join(self.extensions)
        if self._supports(Capability.CHECKSUM):
            headers["Tus-Checksum-Algorithm"] = ",".join(ALGORITHMS)
        return headers

    # POST /files/

    async def create(
        self,
        headers: HeaderReader,
        principal: Principal | None,
        body: AsyncIterable[bytes] | None = None,
    ) -> dict[str, str]:
        """creation (+ -with-upload, -defer-length, concatenation); answers 201 headers."""
        _require_version(headers)
        owner = _require_principal(principal)
        self._require(Capability.CREATION)
        concat = parse_concat(single(headers, "Upload-Concat"))
        if concat is not None:
            self._require(Capability.CONCATENATION)
        metadata = parse_metadata(single(headers, "Upload-Metadata"), self._max_metadata_size)
        with_body = _has_chunk(headers)
        if with_body:
            self._require(Capability.CREATION_WITH_UPLOAD)
        assert principal is not None
        if concat is not None and concat.kind == "final":
            if single(headers, "Upload-Length") is not None or with_body:
                raise TusError(
                    errors.INVALID_CONCAT,
                    "A final upload takes neither Upload-Length nor a body.",
                )
            parts = [await self._finished_part(part_id, owner) for part_id in concat.parts]
            infos = [await part.info() for part in parts]
            length = sum(info.length or 0 for info in infos)
            if length > self._max_size:
                raise TusError(errors.MAX_SIZE_EXCEEDED)
            new = NewUpload(
                length=length,
                owner=owner,
                metadata=metadata,
                case_ref=principal.case_ref,
                concat="final",
                parts=concat.parts,
            )
            upload = await create_final(self._storage, new, parts)
            log.info("upload concatenated id=%s parts=%d size=%d", upload.id, len(parts), length)
            return {"Location": f"{BASE_PATH}/{upload.id}"}
        length = self._creation_length(headers)
        upload = await self._storage.create(
            NewUpload(
                length=length,
                owner=owner,
                metadata=metadata,
                case_ref=principal.case_ref,
                concat=concat.kind if concat else None,
            )
        )
        log.info("upload created id=%s length=%s", upload.id, length)
        location = {"Location": f"{BASE_PATH}/{upload.id}"}
        if length == 0:
            await upload.finish()
            log.info("upload complete id=%s size=0", upload.id)
        info = await upload.info()
        if with_body and body is not None:
            try:
                async with self._locks.hold(upload.id) as hold:
                    info = await self._append(upload, info, headers, 0, hold.interruptible(body))
            except TusError as error:
                error.headers.update(location)
                raise
            return {**location, "Upload-Offset": str(info.offset), **self._expires(info)}
        return {**location, **self._expires(info)}

    # HEAD /files/{id}

    async def head(
        self, upload_id: str, headers: HeaderReader, principal: Principal | None
    ) -> dict[str, str]:
        _require_version(headers)
        info = await (await self._live_upload(upload_id, principal)).info()
        reply = {"Upload-Offset": str(info.offset), "Cache-Control": "no-store"}
        if info.length is None:
            reply["Upload-Defer-Length"] = "1"
        else:
            reply["Upload-Length"] = str(info.length)
        if info.metadata:
            reply["Upload-Metadata"] = encode_metadata(info.metadata)
        if info.concat:
            reply["Upload-Concat"] = format_concat(info.concat, info.parts, BASE_PATH)
        return {**reply, **self._expires(info)}

    # PATCH /files/{id}

    async def patch(
        self,
        upload_id: str,
        headers: HeaderReader,
        body: AsyncIterable[bytes],
        principal: Principal | None,
    ) -> dict[str, str]:
        """Append ``body``; answers 204 headers (the new offset is durable before this returns)."""
        _require_version(headers)
        _require_principal(principal)
        content_type = single(headers, "Content-Type")
        if content_type is None or media_type(content_type) != PATCH_CONTENT_TYPE:
            raise TusError(errors.INVALID_CONTENT_TYPE)
        raw_offset = single(headers, "Upload-Offset")
        if raw_offset is None:
            raise TusError(errors.INVALID_OFFSET, "Upload-Offset is required.")
        offset = byte_count(raw_offset, errors.INVALID_OFFSET)
        upload = await self._live_upload(upload_id, principal)
        async with self._locks.hold(upload_id) as hold:
            with _gone_is_not_found():
                info = await upload.info()  # again: it may have changed while we waited
                if info.concat == "final":
                    raise TusError(errors.MODIFY_FINAL)
                body = hold.interruptible(body)
                info = await self._append(upload, info, headers, offset, body)
        return {"Upload-Offset": str(info.offset), **self._expires(info)}

    # DELETE /files/{id}

    async def terminate(
        self, upload_id: str, headers: HeaderReader, principal: Principal | None
    ) -> None:
        _require_version(headers)
        if not self._supports(Capability.TERMINATION):
            raise TusError(errors.METHOD_NOT_ALLOWED)
        await self._owned_upload(upload_id, principal)  # expired uploads may be deleted too
        assert isinstance(self._storage, Terminator)
        async with self._locks.hold(upload_id):
            with _gone_is_not_found():
                await self._storage.terminate(upload_id)
        log.info("upload terminated id=%s", upload_id)

    # GET /files/{id}

    async def download(
        self, upload_id: str, principal: Principal | None
    ) -> tuple[UploadInfo, Upload]:
        upload = await self._live_upload(upload_id, principal)
        info = await upload.info()
        if not info.is_complete:
            raise TusError(errors.UPLOAD_NOT_FINISHED)
        if not info.finished:
            async with self._locks.hold(upload_id):
                with _gone_is_not_found():
                    await upload.finish()
        return info, upload

    # expiration

    async def sweep_expired(self) -> int:
        """Terminate unfinished uploads past their expiry; return how many."""
        if self._expiry is None:
            return 0
        assert isinstance(self._storage, Lister) and isinstance(self._storage, Terminator)
        removed = 0
        async for upload_id in self._storage.list_ids():
            if self._locks.is_held(upload_id):
                continue  # receiving data right now: not expired
            try:
                async with self._locks.hold(upload_id):
                    with _gone_is_not_found():
                        upload = await self._storage.get(upload_id)
                        if upload is None or not self._is_expired(await upload.info()):
                            continue
                        await self._storage.terminate(upload_id)
            except TusError:  # busy or gone meanwhile: leave it to the next sweep
                continue
            log.info("upload expired id=%s", upload_id)
            removed += 1
        return removed

    # internals

    async def _append(
        self,
        upload: Upload,
        info: UploadInfo,
        headers: HeaderReader,
        offset: int,
        body: AsyncIterable[bytes],
    ) -> UploadInfo:
        """Write one chunk at ``offset`` (the caller holds the upload's lock)."""
        if offset != info.offset:
            raise TusError(errors.MISMATCHED_OFFSET)
        raw_length = single(headers, "Upload-Length")
        if raw_length is not None and info.length is None:
            info = await self._declare_length(upload, info, raw_length)
        elif (
            raw_length is not None
            and byte_count(raw_length, errors.INVALID_UPLOAD_LENGTH) != info.length
        ):
            raise TusError(errors.LENGTH_ALREADY_SET)
        raw_content_length = single(headers, "Content-Length")
        content_length = (
            None
            if raw_content_length is None
            else byte_count(raw_content_length, errors.INVALID_CONTENT_LENGTH)
        )
        limit = (info.length if info.length is not None else self._max_size) - offset
        overflow = (
            errors.UPLOAD_SIZE_EXCEEDED if info.length is not None else errors.MAX_SIZE_EXCEEDED
        )
        if content_length is not None and content_length > limit:
            raise TusError(overflow)
        checksum = self._checksum(headers)
        limited = _LimitedBody(body, limit, content_length)
        stream: AsyncIterable[bytes] = limited
        if checksum is not None:
            stream = checksum.feed(limited)

        # All or nothing when the chunk can be judged only once it has all arrived:
        # with a checksum, or without Content-Length (an overflow shows up late).
        def verify() -> None:
            if limited.overflowed:
                raise TusError(overflow)
            if checksum is not None:
                checksum.verify()

        all_or_nothing = checksum is not None or content_length is None
        new_offset = await upload.write_chunk(
            offset, stream, verify=verify if all_or_nothing else None
        )
        log.info("upload chunk id=%s offset=%d..%d", upload.id, offset, new_offset)
        info = await upload.info()
        if info.is_complete and not info.finished:
            await upload.finish()
            info = await upload.info()
            log.info("upload complete id=%s size=%d", upload.id, new_offset)
        if limited.overflowed:
            raise TusError(overflow)
        return info

    async def _declare_length(self, upload: Upload, info: UploadInfo, raw: str) -> UploadInfo:
        length = byte_count(raw, errors.INVALID_UPLOAD_LENGTH)
        if length > self._max_size:
            raise TusError(errors.MAX_SIZE_EXCEEDED)
        if length < info.offset:
            raise TusError(errors.LENGTH_BELOW_OFFSET)
        await upload.declare_length(length)
        return await upload.info()

    def _creation_length(self, headers: HeaderReader) -> int | None:
        raw_length = single(headers, "Upload-Length")
        raw_defer = single(headers, "Upload-Defer-Length")
        if raw_defer is not None:
            if not self._supports(Capability.CREATION_DEFER_LENGTH):
                raise TusError(errors.DEFER_LENGTH_UNSUPPORTED)
            if raw_defer.strip() != "1" or raw_length is not None:
                raise TusError(errors.INVALID_DEFER_LENGTH)
            return None
        if raw_length is None:
            raise TusError(errors.INVALID_UPLOAD_LENGTH, "Upload-Length is required.")
        length = byte_count(raw_length, errors.INVALID_UPLOAD_LENGTH)
        if length > self._max_size:
            raise TusError(errors.MAX_SIZE_EXCEEDED)
        return length

    def _checksum(self, headers: HeaderReader) -> ChunkChecksum | None:
        raw = single(headers, "Upload-Checksum")
        if raw is None:
            return None
        if not self._supports(Capability.CHECKSUM):
            raise TusError(errors.EXTENSION_NOT_SUPPORTED, "This server does not check checksums.")
        return ChunkChecksum.parse(raw)

    async def _finished_part(self, part_id: str, owner: str) -> Upload:
        part = await self._storage.get(part_id)
        info = None if part is None else await part.info()
        if part is None or info is None or info.owner != owner:
            raise TusError(
                errors.INVALID_CONCAT, "Upload-Concat names an upload that does not exist."
            )
        if info.concat != "partial":
            raise TusError(
                errors.INVALID_CONCAT, "Upload-Concat names an upload that is not partial."
            )
        if not info.is_complete:
            raise TusError(
                errors.INVALID_CONCAT, "Upload-Concat names a partial upload that is not finished."
            )
        if not info.finished:
            await part.finish()
        return part

    def _expires(self, info: UploadInfo) -> dict[str, str]:
        if self._expiry is None or info.finished:
            return {}
        return {"Upload-Expires": formatdate(info.updated_at + self._expiry, usegmt=True)}

    def _is_expired(self, info: UploadInfo) -> bool:
        return (
            self._expiry is not None
            and not info.finished
            and self._clock() >= info.updated_at + self._expiry
        )

    async def _live_upload(self, upload_id: str, principal: Principal | None) -> Upload:
        upload = await self._owned_upload(upload_id, principal)
        if self._is_expired(await upload.info()):
            raise TusError(errors.UPLOAD_EXPIRED)
        return upload

    async def _owned_upload(self, upload_id: str, principal: Principal | None) -> Upload:
        owner = _require_principal(principal)
        if not is_upload_id(upload_id):
            raise TusError(errors.UPLOAD_NOT_FOUND)
        upload = await self._storage.get(upload_id)
        if upload is None:
            raise TusError(errors.UPLOAD_NOT_FOUND)
        try:
            info = await upload.info()
        except FileNotFoundError:  # terminated between the lookup and now
            raise TusError(errors.UPLOAD_NOT_FOUND) from None
        if info.owner != owner:
            raise TusError(errors.UPLOAD_NOT_FOUND)
        return upload

    def _supports(self, capability: Capability) -> bool:
        return capability in self._storage.capabilities

    def _require(self, capability: Capability) -> None:
        if not self._supports(capability):
            raise TusError(
                errors.EXTENSION_NOT_SUPPORTED,
                f"This server does not support the tus '{capability.value}' extension.",
            )


class _LimitedBody:
    """Yields at most ``limit`` bytes of ``body``; notes (and stops at) anything beyond.

    With ``declared`` (Content-Length), a body that runs past it counts as overflow too.
    """

    def __init__(self, body: AsyncIterable[bytes], limit: int, declared: int | None) -> None:
        self._body = body
        self._limit = limit if declared is None else min(limit, declared)
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


@contextmanager
def _gone_is_not_found() -> Iterator[None]:
    """An upload terminated while a request waited for it is simply not found."""
    try:
        yield
    except FileNotFoundError:
        raise TusError(errors.UPLOAD_NOT_FOUND) from None


def _has_chunk(headers: HeaderReader) -> bool:
    content_type = single(headers, "Content-Type")
    return content_type is not None and media_type(content_type) == PATCH_CONTENT_TYPE


def _require_version(headers: HeaderReader) -> None:
    if single(headers, "Tus-Resumable") != TUS_VERSION:
        raise TusError(errors.UNSUPPORTED_VERSION)


def _require_principal(principal: Principal | None) -> str:
    if principal is None:
        raise TusError(errors.NOT_SIGNED_IN)
    return principal.owner
