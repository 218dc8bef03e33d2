"""tus 1.0 and its extensions: every protocol rule lives here, free of the web framework.

The Litestar controller hands over headers, the principal and the body stream;
this module checks versions, ownership, expiry, offsets, lengths and checksums,
drives the storage, and answers with response headers or a `TusError` from the
catalogue. Logs carry ids, sizes and codes only (never metadata or case refs).

Extensions: creation, creation-with-upload, creation-defer-length, expiration,
checksum, termination, concatenation; each is advertised, and accepted, only
when the storage declares the matching `Capability`.

One addition of our own, for uploads streamed while they are made (the browser sends a
clip's fragments as it encodes them): the PATCH that declares a deferred length may carry
``Upload-Metadata`` with keys the upload does not have yet (what is known only at the end,
such as the measured quality). They are allow-listed as at creation, and recorded with the
length, before the upload can complete.
"""

import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AsyncExitStack, contextmanager
from email.utils import formatdate

import msgspec

from server import faults
from server.auth.principal import Principal
from server.db.registry import OffsetConflict, Registry, UploadInfo
from server.storage import Capability, Part, Storage, StoreState, is_upload_id, new_upload_id
from server.tus import errors
from server.tus.checksum import ALGORITHMS, ChunkChecksum
from server.tus.concat import format_concat, parse_concat
from server.tus.errors import TUS_VERSION, TusError
from server.tus.headers import HeaderReader, byte_count, media_type, single
from server.tus.locks import UploadLocks
from server.tus.metadata import MAX_HEADER_BYTES, encode_metadata, parse_metadata
from server.tus.quotas import Quotas

log = logging.getLogger("medpress.tus")

PATCH_CONTENT_TYPE = "application/offset+octet-stream"
BASE_PATH = "/files"
SWEEP_BATCH = 500
ORPHAN_MIN_AGE = 3600.0  # bytes younger than this may belong to an upload being created


class TusProtocol:
    def __init__(
        self,
        storage: Storage,
        registry: Registry,
        max_size: int,
        *,
        expiry: float | None = None,
        locks: UploadLocks | None = None,
        quotas: Quotas | None = None,
        on_created: Callable[[UploadInfo], Awaitable[None]] | None = None,
        max_metadata_size: int = MAX_HEADER_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage = storage
        self._registry = registry
        self._max_size = max_size
        self._locks = locks or UploadLocks()
        self._quotas = quotas
        self._on_created = on_created  # the audit trail records bypasses here
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
            new = _new_info(owner, principal, metadata, None, "final", self._clock())
            info = await self._create_final(new, concat.parts)
            return {"Location": f"{BASE_PATH}/{info.id}"}
        length = self._creation_length(headers)
        if self._quotas is not None:
            await self._quotas.admit(owner, length or 0, new_upload=True)
        kind = concat.kind if concat else None
        info = _new_info(owner, principal, metadata, length, kind, self._clock())
        with _storage_failures(info.id):
            info = msgspec.structs.replace(info, store=await self._storage.create(info.id))
        await self._registry.add(info)
        log.info("upload created id=%s length=%s", info.id, length)
        await self._announce(info)
        location = {"Location": f"{BASE_PATH}/{info.id}"}
        if length == 0:
            async with self._locks.hold(info.id):
                info = await self._finish(info)
        if with_body and body is not None:
            try:
                async with self._locks.hold(info.id) as hold:
                    info = await self._append(info, headers, 0, hold.interruptible(body))
            except TusError as error:
                error.headers.update(location)
                raise
            return {**location, "Upload-Offset": str(info.offset), **self._expires(info)}
        return {**location, **self._expires(info)}

    # HEAD /files/{id}

    async def head(
        self, upload_id: str, headers: HeaderReader, principal: Principal | None
    ) -> dict[str, str]:
        """The offset, never equal to the length before the upload is finished (so a client
        never reports success for bytes the server could still drop)."""
        _require_version(headers)
        info = await self._live_upload(upload_id, principal)
        if info.is_complete and not info.finished:
            info = await self._finish_now(info.id)
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
        await self._live_upload(upload_id, principal)
        async with self._locks.hold(upload_id) as hold:
            info = await self._current(upload_id)  # again: it may have changed while we waited
            if info.concat == "final":
                raise TusError(errors.MODIFY_FINAL)
            info = await self._append(info, headers, offset, hold.interruptible(body))
        return {"Upload-Offset": str(info.offset), **self._expires(info)}

    # DELETE /files/{id}

    async def terminate(
        self, upload_id: str, headers: HeaderReader, principal: Principal | None
    ) -> None:
        _require_version(headers)
        if not self._supports(Capability.TERMINATION):
            raise TusError(errors.METHOD_NOT_ALLOWED)
        await self._owned_upload(upload_id, principal)  # expired uploads may be deleted too
        async with self._locks.hold(upload_id):
            await self._remove(await self._current(upload_id))
        log.info("upload terminated id=%s", upload_id)

    # GET /files/{id}

    async def download(self, upload_id: str, principal: Principal | None) -> UploadInfo:
        """A finished upload's record (finishing it first if all its bytes are there)."""
        info = await self._live_upload(upload_id, principal)
        if not info.is_complete:
            raise TusError(errors.UPLOAD_NOT_FINISHED)
        if not info.finished:
            info = await self._finish_now(upload_id)
        return info

    def read(
        self, info: UploadInfo, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        return self._storage.read(info.id, info.store, start, info.offset if end is None else end)

    def drain(self) -> None:
        """Shutting down: every PATCH still receiving stops reading, records and answers."""
        self._locks.release_all()

    # expiration

    async def sweep_expired(self) -> int:
        """Finish complete uploads nobody finished, remove expired ones and the partial
        uploads a final now holds; return how many were removed. One instance at a time."""
        if self._expiry is None:
            return 0
        async with self._locks.exclusive("sweep") as mine:
            if not mine:
                log.info("sweep skipped: another instance is sweeping")
                return 0
            removed = 0
            cutoff = self._clock() - self._expiry
            for info in await self._registry.stale(cutoff, SWEEP_BATCH):
                removed += await self._sweep_one(info.id, expired_only=True)
            for info in await self._registry.concatenated(SWEEP_BATCH):
                removed += await self._sweep_one(info.id, expired_only=False)
            return removed

    async def remove_orphans(self) -> int:
        """Remove bytes that no registry row claims (a crash between storing and recording),
        once they are older than the expiry. Lists the storage: run it rarely."""
        if self._expiry is None:
            return 0
        async with self._locks.exclusive("orphans") as mine:
            if not mine:
                return 0
            if not await self._storage.claim(await self._registry.deployment_id()):
                log.warning(
                    "orphan pass skipped: the storage is marked as another deployment's "
                    "(is the database URL right?)"
                )
                return 0
            older_than = self._clock() - max(self._expiry, ORPHAN_MIN_AGE)
            return await self._storage.remove_orphans(self._registry.existing, older_than)

    # internals

    async def _sweep_one(self, upload_id: str, *, expired_only: bool) -> int:
        async with self._locks.try_hold(upload_id) as held:
            if not held:  # receiving data right now: not expired
                return 0
            info = await self._registry.get(upload_id)
            if info is None:
                return 0
            if info.is_complete and not info.finished:
                try:  # never delete a complete upload: finish it
                    await self._finish(info)
                except TusError:  # logged; tried again later, after the others
                    await self._registry.update(upload_id)
                return 0
            if expired_only and not self._is_expired(info):
                return 0
            await self._remove(info)
        reason = "expired" if expired_only else "concatenated"
        log.info("upload removed id=%s reason=%s", upload_id, reason)
        return 1

    async def _announce(self, info: UploadInfo) -> None:
        if self._on_created is None:
            return
        try:
            await self._on_created(info)
        except Exception as error:  # noqa: BLE001 - the audit must not be skipped: retry later
            log.warning("recording upload failed id=%s error=%s", info.id, type(error).__name__)
            raise TusError(errors.STORAGE_UNAVAILABLE) from None

    async def _remove(self, info: UploadInfo) -> None:
        """The row goes first: without it the upload no longer exists (and leftover bytes
        are orphans the orphan pass removes)."""
        await self._registry.remove(info.id)
        try:
            await self._storage.delete(info.id, info.store)
        except Exception as error:  # noqa: BLE001 - the upload is gone; the orphan pass retries
            log.warning("deleting bytes failed id=%s error=%s", info.id, type(error).__name__)

    async def _create_final(self, info: UploadInfo, part_ids: Iterable[str]) -> UploadInfo:
        """concatenation: the storage assembles the final from the parts, which are locked
        meanwhile (a DELETE of one waits, then answers 423)."""
        part_ids = tuple(part_ids)
        async with AsyncExitStack() as stack:
            for part_id in sorted(set(part_ids)):
                if is_upload_id(part_id):
                    await stack.enter_async_context(self._locks.hold(part_id))
            parts = [await self._finished_part(part_id, info.owner) for part_id in part_ids]
            length = sum(part.length or 0 for part in parts)
            if length > self._max_size:
                raise TusError(errors.MAX_SIZE_EXCEEDED)
            with _storage_failures(info.id):
                store = await self._storage.concatenate(
                    info.id, [Part(part.id, part.store, part.length or 0) for part in parts]
                )
            info = msgspec.structs.replace(
                info, length=length, offset=length, parts=part_ids, state="finished", store=store
            )
            await self._registry.add(info)
            for part_id in set(part_ids):
                await self._registry.update(part_id, concatenated_into=info.id)
        log.info("upload concatenated id=%s parts=%d size=%d", info.id, len(part_ids), length)
        await self._announce(info)
        return info

    async def _append(
        self,
        info: UploadInfo,
        headers: HeaderReader,
        offset: int,
        body: AsyncIterable[bytes],
    ) -> UploadInfo:
        """Write one chunk at ``offset`` (the caller holds the upload's lock)."""
        if offset != info.offset:
            raise TusError(errors.MISMATCHED_OFFSET)
        raw_length = single(headers, "Upload-Length")
        raw_metadata = single(headers, "Upload-Metadata")
        if raw_metadata is not None and (raw_length is None or info.length is not None):
            raise TusError(errors.METADATA_NOT_WITH_LENGTH)
        if raw_length is not None and info.length is None:
            info = await self._declare_length(info, raw_length, raw_metadata)
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

        if info.is_complete:  # nothing more to store: any byte is one too many
            async for _ in limited:
                pass
            if limited.overflowed:
                raise TusError(overflow)
            return info if info.finished else await self._finish(info)

        recorded = info

        async def checkpoint(new_offset: int, store: StoreState) -> None:
            nonlocal recorded
            recorded = await self._registry.advance(
                info.id, expected=recorded.offset, offset=new_offset, store=store
            )

        all_or_nothing = checksum is not None or content_length is None
        with _storage_failures(info.id):
            await self._storage.write(
                info.id,
                info.store,
                offset,
                stream,
                checkpoint=checkpoint,
                verify=verify if all_or_nothing else None,
            )
        log.info("upload chunk id=%s offset=%d..%d", info.id, offset, recorded.offset)
        info = recorded
        if info.is_complete and not info.finished:
            faults.trip("kill-before-finish")
            info = await self._finish(info)
        if limited.overflowed:
            raise TusError(overflow)
        return info

    async def _finish_now(self, upload_id: str) -> UploadInfo:
        async with self._locks.hold(upload_id):
            info = await self._current(upload_id)
            return info if info.finished else await self._finish(info)

    async def _finish(self, info: UploadInfo) -> UploadInfo:
        """Make a complete upload readable and record it finished (the caller holds its lock).

        Whoever comes first finishes it: the PATCH that completed it, a later HEAD,
        PATCH or GET, or the sweep; the storage's `finish` tolerates having (partly)
        happened before. If storage fails, the client is told to retry (503): the
        offset it sees stays short of the length until the upload is finished.
        """
        assert info.length is not None
        with _storage_failures(info.id):
            store = await self._storage.finish(info.id, info.store, info.length)
        info = await self._registry.update(info.id, state="finished", store=store)
        log.info("upload complete id=%s size=%d", info.id, info.offset)
        return info

    async def _declare_length(self, info: UploadInfo, raw: str, raw_metadata: str | None) -> UploadInfo:
        length = byte_count(raw, errors.INVALID_UPLOAD_LENGTH)
        if length > self._max_size:
            raise TusError(errors.MAX_SIZE_EXCEEDED)
        if length < info.offset:
            raise TusError(errors.LENGTH_BELOW_OFFSET)
        added = parse_metadata(raw_metadata, self._max_metadata_size)
        if added.keys() & info.metadata.keys():
            raise TusError(errors.METADATA_NOT_WITH_LENGTH)
        metadata = {**info.metadata, **added}
        if len(encode_metadata(metadata)) > self._max_metadata_size:
            raise TusError(errors.METADATA_TOO_LARGE)
        if self._quotas is not None:
            await self._quotas.admit(info.owner, length - info.offset, new_upload=False)
        return await self._registry.update(info.id, length=length, metadata=metadata)

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

    async def _finished_part(self, part_id: str, owner: str) -> UploadInfo:
        info = await self._registry.get(part_id) if is_upload_id(part_id) else None
        if info is None or info.owner != owner:
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
        return info if info.finished else await self._finish(info)

    def _expires(self, info: UploadInfo) -> dict[str, str]:
        if self._expiry is None or info.finished:
            return {}
        return {"Upload-Expires": formatdate(info.updated_at + self._expiry, usegmt=True)}

    def _is_expired(self, info: UploadInfo) -> bool:
        """Unfinished and untouched for the expiry; complete uploads never expire."""
        return (
            self._expiry is not None
            and not info.finished
            and not info.is_complete
            and self._clock() >= info.updated_at + self._expiry
        )

    async def _current(self, upload_id: str) -> UploadInfo:
        """The upload's row as it is now (terminated meanwhile: not found)."""
        info = await self._registry.get(upload_id)
        if info is None:
            raise TusError(errors.UPLOAD_NOT_FOUND)
        return info

    async def _live_upload(self, upload_id: str, principal: Principal | None) -> UploadInfo:
        info = await self._owned_upload(upload_id, principal)
        if self._is_expired(info):
            raise TusError(errors.UPLOAD_EXPIRED)
        return info

    async def _owned_upload(self, upload_id: str, principal: Principal | None) -> UploadInfo:
        owner = _require_principal(principal)
        if not is_upload_id(upload_id):
            raise TusError(errors.UPLOAD_NOT_FOUND)
        info = await self._current(upload_id)
        if info.owner != owner:
            raise TusError(errors.UPLOAD_NOT_FOUND)
        return info

    def _supports(self, capability: Capability) -> bool:
        return capability in self._storage.capabilities

    def _require(self, capability: Capability) -> None:
        if not self._supports(capability):
            raise TusError(
                errors.EXTENSION_NOT_SUPPORTED,
                f"This server does not support the tus '{capability.value}' extension.",
            )


def _new_info(
    owner: str,
    principal: Principal,
    metadata: dict[str, str],
    length: int | None,
    concat: str | None,
    now: float,
) -> UploadInfo:
    return UploadInfo(
        id=new_upload_id(),
        owner=owner,
        length=length,
        metadata=metadata,
        case_ref=principal.case_ref,
        concat=concat,  # type: ignore[arg-type]
        created_at=now,
        updated_at=now,
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
def _storage_failures(upload_id: str) -> Iterator[None]:
    """Storage that fails is the server's trouble, not the request's: 503 with Retry-After
    (the bytes recorded so far are kept). Progress another writer moved on is a 409."""
    try:
        yield
    except TusError:
        raise
    except OffsetConflict:
        log.warning("upload progress conflict id=%s", upload_id)
        raise TusError(errors.MISMATCHED_OFFSET) from None
    except Exception as error:  # noqa: BLE001 - any storage failure: 503, bytes kept
        log.warning("storage failed id=%s error=%s", upload_id, type(error).__name__)
        raise TusError(errors.STORAGE_UNAVAILABLE) from None


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
