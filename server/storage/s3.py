"""S3 storage over boto3 multipart upload (any S3-compatible endpoint).

Objects, under an optional key prefix (after tusd's ``s3store``):

- ``<id>``: the upload, assembled by CompleteMultipartUpload when it is finished;
  while it is receiving, a multipart upload on that key holds its parts.
- ``<id>.tail.<random>``: bytes received that do not yet fill a part (S3 parts
  other than the last must be at least 5 MiB). A new tail gets a new key; the
  old one is deleted only after the registry points at the new one.

The store state the registry keeps (`_Multipart`) is the multipart upload id,
the parts uploaded so far with their ETags, and the current tail's key. A part
is buffered in memory up to ``part_size`` (5-64 MiB), so memory per PATCH is
bounded. ``finish`` is idempotent: if the object already exists at the upload's
length, CompleteMultipartUpload succeeded before (a crash or a lost answer
came before the registry heard of it) and nothing is sent again.

boto3 is blocking, so every call runs in a worker thread. Credentials and
region come from the usual AWS environment (``AWS_ACCESS_KEY_ID``, ...).
"""

import secrets
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import msgspec

from server import faults
from server.storage.base import (
    ALL_CAPABILITIES,
    Checkpoint,
    Part,
    StaleOffsetError,
    StoreState,
    Verify,
    Written,
)
from server.storage.ids import is_upload_id

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 64 * 1024 * 1024
READ_CHUNK = 1024 * 1024
_TAIL = ".tail."
DEPLOYMENT_MARKER = ".medpress-deployment"
T = TypeVar("T")


class _Part(msgspec.Struct, frozen=True, array_like=True):
    number: int
    etag: str
    size: int


class _Multipart(msgspec.Struct, frozen=True, kw_only=True):
    upload_id: str | None = None
    parts: tuple[_Part, ...] = ()
    tail_key: str | None = None
    tail_size: int = 0
    completed: bool = False

    @property
    def offset(self) -> int:
        return sum(part.size for part in self.parts) + self.tail_size


def _load(store: StoreState) -> _Multipart:
    return msgspec.convert(store, _Multipart)


def _dump(multipart: _Multipart) -> StoreState:
    return msgspec.to_builtins(multipart)


_COMPLETED = _dump(_Multipart(completed=True))


def make_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 S3 client; path-style addressing and no optional checksums for custom endpoints."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {
        "retries": {"max_attempts": 5, "mode": "standard"},
        "max_pool_connections": 32,
    }
    if endpoint_url:
        options.update(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=Config(**options)
    )


class S3Storage:
    capabilities = ALL_CAPABILITIES

    def __init__(
        self, client: Any, bucket: str, *, prefix: str = "", part_size: int = MIN_PART_SIZE
    ) -> None:
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"S3 parts must be {MIN_PART_SIZE} to {MAX_PART_SIZE} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size

    async def call(self, method: Callable[..., T], **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(method, **kwargs))

    def key(self, upload_id: str) -> str:
        return f"{self.prefix}{upload_id}"

    async def create(self, upload_id: str) -> StoreState:
        response = await self.call(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=self.key(upload_id)
        )
        return _dump(_Multipart(upload_id=response["UploadId"]))

    async def write(
        self,
        upload_id: str,
        store: StoreState,
        offset: int,
        stream: AsyncIterable[bytes],
        *,
        checkpoint: Checkpoint,
        verify: Verify | None = None,
    ) -> Written:
        key = self.key(upload_id)
        recorded = _load(store)
        if offset != recorded.offset:
            raise StaleOffsetError(f"offset {offset} is not the stored {recorded.offset}")
        buffer = bytearray(await self._tail_bytes(recorded))
        parts = list(recorded.parts)
        received = 0
        accepted = False

        async def record(tail_key: str | None) -> None:
            nonlocal recorded
            old_tail = recorded.tail_key
            recorded = msgspec.structs.replace(
                recorded, parts=tuple(parts), tail_key=tail_key, tail_size=len(buffer)
            )
            await checkpoint(offset + received, _dump(recorded))
            if old_tail and old_tail != tail_key:
                await self._delete_keys([old_tail])

        try:
            async for chunk in stream:
                buffer += chunk
                received += len(chunk)
                if len(buffer) >= self.part_size:
                    parts.append(await self._upload_part(key, recorded, len(parts) + 1, buffer))
                    buffer = bytearray()
                    if verify is None:
                        await record(None)
            if verify is not None:
                verify()
            accepted = True
        finally:
            if received and (verify is None or accepted):
                with anyio.CancelScope(shield=True):
                    tail_key = await self._put_tail(upload_id, buffer) if buffer else None
                    if offset + received != recorded.offset or tail_key != recorded.tail_key:
                        await record(tail_key)
        return Written(recorded.offset, _dump(recorded))

    async def finish(self, upload_id: str, store: StoreState, length: int) -> StoreState:
        multipart = _load(store)
        if multipart.completed:
            return store
        key = self.key(upload_id)
        if await self._size(key) == length:  # completed before; the registry never heard
            await self._delete_keys([multipart.tail_key] if multipart.tail_key else [])
            return _COMPLETED
        parts = list(multipart.parts)
        if multipart.tail_key:
            tail = await self._tail_bytes(multipart)
            parts.append(await self._upload_part(key, multipart, len(parts) + 1, tail))
        if not parts:  # S3 cannot complete a multipart upload without parts
            await self._abort(key, multipart.upload_id)
            await self.call(self.client.put_object, Bucket=self.bucket, Key=key, Body=b"")
        else:
            await self._complete(key, multipart.upload_id, parts, length)
        faults.trip("kill-after-complete")
        await self._delete_keys([multipart.tail_key] if multipart.tail_key else [])
        return _COMPLETED

    async def read(
        self, upload_id: str, store: StoreState, start: int, end: int
    ) -> AsyncIterator[bytes]:
        if end <= start:
            return
        response = await self.call(
            self.client.get_object,
            Bucket=self.bucket,
            Key=self.key(upload_id),
            Range=f"bytes={start}-{end - 1}",
        )
        body = response["Body"]
        chunks = body.iter_chunks(READ_CHUNK)
        try:
            while chunk := await anyio.to_thread.run_sync(next, chunks, b""):
                yield chunk
        finally:
            body.close()

    async def delete(self, upload_id: str, store: StoreState) -> None:
        multipart = _load(store)
        key = self.key(upload_id)
        if not multipart.completed:
            await self._abort(key, multipart.upload_id)
        await self._delete_keys([key, *([multipart.tail_key] if multipart.tail_key else [])])

    async def concatenate(self, upload_id: str, parts: list[Part]) -> StoreState:
        """UploadPartCopy for every stretch of at least 5 MiB; only shorter parts are read
        (and put together into parts of at least 5 MiB)."""
        key = self.key(upload_id)
        multipart = _load(await self.create(upload_id))
        uploaded: list[_Part] = []
        pending = bytearray()
        try:
            for part in parts:
                source = self.key(part.id)
                position = 0
                if pending:
                    position = min(MIN_PART_SIZE - len(pending), part.length)
                    pending += await self._range(source, 0, position)
                    if len(pending) >= MIN_PART_SIZE:
                        uploaded.append(
                            await self._upload_part(key, multipart, len(uploaded) + 1, pending)
                        )
                        pending = bytearray()
                remaining = part.length - position
                if remaining == 0:
                    continue
                if remaining >= MIN_PART_SIZE:  # S3 copies ranges of sources over 5 MB only
                    uploaded.append(
                        await self._copy_part(
                            key, multipart, len(uploaded) + 1, source, position, part.length
                        )
                    )
                else:
                    pending += await self._range(source, position, part.length)
            if pending:  # the last part may be small
                uploaded.append(await self._upload_part(key, multipart, len(uploaded) + 1, pending))
            total = sum(part.length for part in parts)
            if not uploaded:
                await self._abort(key, multipart.upload_id)
                await self.call(self.client.put_object, Bucket=self.bucket, Key=key, Body=b"")
            else:
                await self._complete(key, multipart.upload_id, uploaded, total)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._abort(key, multipart.upload_id)
            raise
        return _COMPLETED

    async def claim(self, deployment_id: str) -> bool:
        key = f"{self.prefix}{DEPLOYMENT_MARKER}"
        try:
            response = await self.call(self.client.get_object, Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            await self.call(
                self.client.put_object, Bucket=self.bucket, Key=key, Body=deployment_id.encode()
            )
            return True
        return (await anyio.to_thread.run_sync(response["Body"].read)).decode() == deployment_id

    async def ping(self) -> None:
        await self.call(self.client.head_bucket, Bucket=self.bucket)

    async def remove_orphans(
        self, known: Callable[[list[str]], Awaitable[set[str]]], older_than: float
    ) -> int:
        """Multipart uploads, objects and tails under the prefix whose upload the registry
        does not know (lists the bucket: run it rarely)."""
        stale_uploads: list[tuple[str, str]] = []
        async for key, multipart_id in self._multipart_uploads(older_than):
            stale_uploads.append((key, multipart_id))
        stale_keys = [key async for key in self._objects(older_than)]
        ids = {self._upload_id_of(key) for key, _ in stale_uploads} | {
            self._upload_id_of(key) for key in stale_keys
        }
        keep = await known([upload_id for upload_id in ids if upload_id])
        removed = 0
        for key, multipart_id in stale_uploads:
            if self._upload_id_of(key) not in keep:
                await self._abort(key, multipart_id)
                removed += 1
        doomed = [key for key in stale_keys if self._upload_id_of(key) not in keep]
        await self._delete_keys(doomed)
        return removed + len(doomed)

    # internals

    async def _complete(
        self, key: str, multipart_id: str | None, parts: list[_Part], length: int
    ) -> None:
        try:
            if faults.trip("s3-complete-error"):
                raise faults.injected_client_error("CompleteMultipartUpload")
            await self.call(
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
                MultipartUpload={
                    "Parts": [{"ETag": p.etag, "PartNumber": p.number} for p in parts]
                },
            )
        except self.client.exceptions.NoSuchUpload:
            if await self._size(key) != length:  # not a completion we did not hear of
                raise

    async def _abort(self, key: str, multipart_id: str | None) -> None:
        if multipart_id is None:
            return
        try:
            await self.call(
                self.client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=multipart_id,
            )
        except self.client.exceptions.NoSuchUpload:
            pass

    async def _size(self, key: str) -> int | None:
        try:
            head = await self.call(self.client.head_object, Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    async def _upload_part(
        self, key: str, multipart: _Multipart, number: int, data: bytes | bytearray
    ) -> _Part:
        response = await self.call(
            self.client.upload_part,
            Bucket=self.bucket,
            Key=key,
            UploadId=multipart.upload_id,
            PartNumber=number,
            Body=bytes(data),
        )
        return _Part(number=number, etag=response["ETag"], size=len(data))

    async def _copy_part(
        self, key: str, multipart: _Multipart, number: int, source: str, start: int, end: int
    ) -> _Part:
        response = await self.call(
            self.client.upload_part_copy,
            Bucket=self.bucket,
            Key=key,
            UploadId=multipart.upload_id,
            PartNumber=number,
            CopySource={"Bucket": self.bucket, "Key": source},
            CopySourceRange=f"bytes={start}-{end - 1}",
        )
        return _Part(number=number, etag=response["CopyPartResult"]["ETag"], size=end - start)

    async def _range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        response = await self.call(
            self.client.get_object, Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}"
        )
        return await anyio.to_thread.run_sync(response["Body"].read)

    async def _tail_bytes(self, multipart: _Multipart) -> bytes:
        if not multipart.tail_key:
            return b""
        response = await self.call(
            self.client.get_object, Bucket=self.bucket, Key=multipart.tail_key
        )
        return await anyio.to_thread.run_sync(response["Body"].read)

    async def _put_tail(self, upload_id: str, data: bytearray) -> str:
        key = f"{self.key(upload_id)}{_TAIL}{secrets.token_hex(8)}"
        await self.call(self.client.put_object, Bucket=self.bucket, Key=key, Body=bytes(data))
        return key

    async def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await self.call(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )

    def _upload_id_of(self, key: str) -> str | None:
        """The upload a key of ours belongs to (``<id>`` or ``<id>.tail.<hex>``), else None."""
        name, _, rest = key[len(self.prefix) :].partition(".")
        ours = not rest or (rest.startswith("tail.") and rest.count(".") == 1)
        return name if ours and is_upload_id(name) else None

    async def _multipart_uploads(self, older_than: float) -> AsyncIterator[tuple[str, str]]:
        extra: dict[str, str] = {}
        while True:
            page = await self.call(
                self.client.list_multipart_uploads, Bucket=self.bucket, Prefix=self.prefix, **extra
            )
            for item in page.get("Uploads", []):
                if item["Initiated"].timestamp() < older_than:
                    yield item["Key"], item["UploadId"]
            if not page.get("IsTruncated"):
                return
            extra = {
                "KeyMarker": page["NextKeyMarker"],
                "UploadIdMarker": page["NextUploadIdMarker"],
            }

    async def _objects(self, older_than: float) -> AsyncIterator[str]:
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = await self.call(
                self.client.list_objects_v2, Bucket=self.bucket, Prefix=self.prefix, **extra
            )
            for item in page.get("Contents", []):
                if item["LastModified"].timestamp() < older_than and self._upload_id_of(
                    item["Key"]
                ):
                    yield item["Key"]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]
