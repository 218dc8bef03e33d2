"""S3 storage over boto3 multipart upload (any S3-compatible endpoint).

Objects, under an optional key prefix (after tusd's ``s3store``):

- ``<id>.info``: JSON record, the single commit point: the `UploadInfo` plus the
  multipart state (upload id, the parts uploaded so far with their ETags, and
  the key of the current tail object). It is rewritten (one atomic PUT) after
  every durable step, so ``offset == sum(part sizes) + tail size`` always holds
  for what it records.
- ``<id>.tail.<random>``: bytes received that do not yet fill a part (S3 parts
  other than the last must be at least 5 MiB). A new tail gets a new key, and
  the old one is deleted only after the record points at the new one, so a
  crash never leaves the record pointing at the wrong bytes.
- ``<id>``: the finished upload, assembled by CompleteMultipartUpload.

Parts are buffered in memory up to ``part_size`` (at least 5 MiB). boto3 is
blocking, so every call runs in a worker thread. Credentials and region come
from the usual AWS environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``, profiles...).
"""

import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import msgspec

from server.storage.base import (
    ALL_CAPABILITIES,
    NewUpload,
    StaleOffsetError,
    UploadInfo,
    Verify,
)
from server.storage.ids import is_upload_id, new_upload_id

MIN_PART_SIZE = 5 * 1024 * 1024
READ_CHUNK = 1024 * 1024
_INFO_SUFFIX = ".info"
T = TypeVar("T")


class _Part(msgspec.Struct, frozen=True):
    number: int
    etag: str
    size: int


class _Multipart(msgspec.Struct, frozen=True, kw_only=True):
    upload_id: str | None
    parts: tuple[_Part, ...] = ()
    tail_key: str | None = None
    tail_size: int = 0
    completed: bool = False


class _Record(msgspec.Struct, frozen=True, kw_only=True):
    info: UploadInfo
    s3: _Multipart


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_Record).decode


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


class S3Upload:
    def __init__(self, storage: "S3Storage", upload_id: str) -> None:
        self._storage = storage
        self._id = upload_id

    @property
    def id(self) -> str:
        return self._id

    async def info(self) -> UploadInfo:
        return (await self._load()).info

    async def write_chunk(
        self, offset: int, stream: AsyncIterable[bytes], *, verify: Verify | None = None
    ) -> int:
        s3 = self._storage
        record = await self._load()
        if offset != record.info.offset:
            raise StaleOffsetError(f"offset {offset} is not the recorded {record.info.offset}")
        buffer = bytearray(await self._tail_bytes(record))
        parts = list(record.s3.parts)
        received = 0
        accepted = False
        try:
            async for chunk in stream:
                buffer += chunk
                received += len(chunk)
                if len(buffer) >= s3.part_size:
                    parts.append(await self._upload_part(record, len(parts) + 1, buffer))
                    buffer = bytearray()
                    if verify is None:
                        record = await self._commit(record, parts, None, offset + received)
            if verify is not None:
                verify()
            accepted = True
        finally:
            if verify is None or accepted:
                with anyio.CancelScope(shield=True):
                    tail_key = await self._put_tail(buffer) if buffer else None
                    if offset + received != record.info.offset or tail_key != record.s3.tail_key:
                        record = await self._commit(record, parts, tail_key, offset + received)
        return record.info.offset

    async def declare_length(self, length: int) -> None:
        record = await self._load()
        await self._save(msgspec.structs.replace(record, info=_replace(record.info, length=length)))

    async def finish(self) -> None:
        record = await self._load()
        if record.info.finished:
            return
        if not record.s3.completed:
            await self._complete(record)
        old_tail = record.s3.tail_key
        await self._save(
            _Record(
                info=_replace(record.info, finished=True),
                s3=_Multipart(upload_id=None, completed=True),
            )
        )
        if old_tail:
            await self._storage.delete_keys([old_tail])

    async def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        s3 = self._storage
        stop = (await self.info()).offset if end is None else end
        if stop <= start:
            return
        response = await s3.call(
            s3.client.get_object,
            Bucket=s3.bucket,
            Key=s3.key(self._id),
            Range=f"bytes={start}-{stop - 1}",
        )
        body = response["Body"]
        chunks = body.iter_chunks(READ_CHUNK)
        try:
            while chunk := await anyio.to_thread.run_sync(next, chunks, b""):
                yield chunk
        finally:
            body.close()

    async def _complete(self, record: _Record) -> None:
        s3 = self._storage
        key = s3.key(self._id)
        parts = list(record.s3.parts)
        if record.s3.tail_key:
            parts.append(
                await self._upload_part(record, len(parts) + 1, await self._tail_bytes(record))
            )
        if not parts:  # S3 cannot complete a multipart upload without parts
            if record.s3.upload_id:
                await s3.call(
                    s3.client.abort_multipart_upload,
                    Bucket=s3.bucket,
                    Key=key,
                    UploadId=record.s3.upload_id,
                )
            await s3.call(s3.client.put_object, Bucket=s3.bucket, Key=key, Body=b"")
            return
        try:
            await s3.call(
                s3.client.complete_multipart_upload,
                Bucket=s3.bucket,
                Key=key,
                UploadId=record.s3.upload_id,
                MultipartUpload={
                    "Parts": [{"ETag": p.etag, "PartNumber": p.number} for p in parts]
                },
            )
        except s3.client.exceptions.NoSuchUpload:
            # Completed before a crash that came before the record was saved?
            head = await s3.call(s3.client.head_object, Bucket=s3.bucket, Key=key)
            if head["ContentLength"] != record.info.offset:
                raise

    async def _upload_part(self, record: _Record, number: int, data: bytes | bytearray) -> _Part:
        s3 = self._storage
        response = await s3.call(
            s3.client.upload_part,
            Bucket=s3.bucket,
            Key=s3.key(self._id),
            UploadId=record.s3.upload_id,
            PartNumber=number,
            Body=bytes(data),
        )
        return _Part(number=number, etag=response["ETag"], size=len(data))

    async def _tail_bytes(self, record: _Record) -> bytes:
        if not record.s3.tail_key:
            return b""
        s3 = self._storage
        response = await s3.call(s3.client.get_object, Bucket=s3.bucket, Key=record.s3.tail_key)
        return await anyio.to_thread.run_sync(response["Body"].read)

    async def _put_tail(self, data: bytearray) -> str:
        s3 = self._storage
        key = f"{s3.key(self._id)}.tail.{secrets.token_hex(8)}"
        await s3.call(s3.client.put_object, Bucket=s3.bucket, Key=key, Body=bytes(data))
        return key

    async def _commit(
        self, record: _Record, parts: list[_Part], tail_key: str | None, offset: int
    ) -> _Record:
        tail_size = offset - sum(part.size for part in parts)
        updated = _Record(
            info=_replace(record.info, offset=offset),
            s3=msgspec.structs.replace(
                record.s3, parts=tuple(parts), tail_key=tail_key, tail_size=tail_size
            ),
        )
        await self._save(updated)
        if record.s3.tail_key and record.s3.tail_key != tail_key:
            await self._storage.delete_keys([record.s3.tail_key])
        return updated

    async def _load(self) -> _Record:
        record = await self._storage.load_record(self._id)
        if record is None:
            raise FileNotFoundError(f"upload {self._id} is gone")
        return record

    async def _save(self, record: _Record) -> None:
        await self._storage.save_record(record)


class S3Storage:
    capabilities = ALL_CAPABILITIES

    def __init__(
        self, client: Any, bucket: str, *, prefix: str = "", part_size: int = MIN_PART_SIZE
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts must be at least {MIN_PART_SIZE} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.part_size = part_size

    async def call(self, method: Callable[..., T], **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(method, **kwargs))

    def key(self, upload_id: str) -> str:
        return f"{self.prefix}{upload_id}"

    async def create(self, new: NewUpload) -> S3Upload:
        upload_id = new_upload_id()
        response = await self.call(
            self.client.create_multipart_upload, Bucket=self.bucket, Key=self.key(upload_id)
        )
        record = _Record(
            info=UploadInfo.new(upload_id, new, time.time()),
            s3=_Multipart(upload_id=response["UploadId"]),
        )
        await self.save_record(record)
        return S3Upload(self, upload_id)

    async def get(self, upload_id: str) -> S3Upload | None:
        if not is_upload_id(upload_id) or await self.load_record(upload_id) is None:
            return None
        return S3Upload(self, upload_id)

    async def terminate(self, upload_id: str) -> None:
        if not is_upload_id(upload_id):
            return
        record = await self.load_record(upload_id)
        # The record goes first: without it the upload no longer exists.
        await self.delete_keys([self.key(upload_id) + _INFO_SUFFIX])
        if record is not None and record.s3.upload_id and not record.s3.completed:
            try:
                await self.call(
                    self.client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=self.key(upload_id),
                    UploadId=record.s3.upload_id,
                )
            except self.client.exceptions.NoSuchUpload:
                pass
        leftovers = [key async for key in self._keys(self.key(upload_id))]
        await self.delete_keys(leftovers)

    async def list_ids(self) -> AsyncIterator[str]:
        async for key in self._keys(self.prefix):
            upload_id = key[len(self.prefix) :].removesuffix(_INFO_SUFFIX)
            if key.endswith(_INFO_SUFFIX) and is_upload_id(upload_id):
                yield upload_id

    async def load_record(self, upload_id: str) -> _Record | None:
        try:
            response = await self.call(
                self.client.get_object, Bucket=self.bucket, Key=self.key(upload_id) + _INFO_SUFFIX
            )
        except self.client.exceptions.NoSuchKey:
            return None
        return _decode(await anyio.to_thread.run_sync(response["Body"].read))

    async def save_record(self, record: _Record) -> None:
        record = msgspec.structs.replace(record, info=_replace(record.info, updated_at=time.time()))
        await self.call(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.key(record.info.id) + _INFO_SUFFIX,
            Body=_encode(record),
            ContentType="application/json",
        )

    async def delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await self.call(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )

    async def _keys(self, prefix: str) -> AsyncIterator[str]:
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = await self.call(
                self.client.list_objects_v2, Bucket=self.bucket, Prefix=prefix, **extra
            )
            for item in page.get("Contents", []):
                yield item["Key"]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]


def _replace(info: UploadInfo, **changes: object) -> UploadInfo:
    return msgspec.structs.replace(info, **changes)
