"""Import uploads stored in the pre-registry layout (one ``<id>.info`` beside the bytes).

``medpress migrate`` runs this after the schema migrations, so an existing
``./var`` (or bucket) keeps working: each ``.info`` becomes a registry row and
is then removed. The bytes stay where they are; they are already where the
byte stores look for them. Rows that exist already are left alone.
"""

import logging
from typing import Any

import anyio
import anyio.to_thread
import msgspec

from server.db.registry import Registry, UploadInfo
from server.storage import Storage, is_upload_id
from server.storage.filesystem import FilesystemStorage

log = logging.getLogger("medpress.db")
INFO_SUFFIX = ".info"


class _LegacyInfo(msgspec.Struct, kw_only=True):
    id: str
    length: int | None
    offset: int = 0
    owner: str
    metadata: dict[str, str] = {}
    case_ref: str | None = None
    concat: str | None = None
    parts: tuple[str, ...] = ()
    finished: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0

    def row(self, store: dict[str, Any]) -> UploadInfo:
        return msgspec.convert(
            {
                **msgspec.structs.asdict(self),
                "state": "finished" if self.finished else "receiving",
                "store": store,
            },
            UploadInfo,
        )


class _LegacyPart(msgspec.Struct):
    number: int
    etag: str
    size: int


class _LegacyMultipart(msgspec.Struct, kw_only=True):
    upload_id: str | None
    parts: tuple[_LegacyPart, ...] = ()
    tail_key: str | None = None
    tail_size: int = 0
    completed: bool = False


class _LegacyRecord(msgspec.Struct):
    info: _LegacyInfo
    s3: _LegacyMultipart


async def import_legacy(storage: Storage, registry: Registry) -> int:
    """Import every legacy ``.info`` the storage holds; return how many rows were added."""
    if isinstance(storage, FilesystemStorage):
        return await _import_filesystem(storage, registry)
    if hasattr(storage, "bucket"):
        return await _import_s3(storage, registry)
    return 0


async def _import_filesystem(storage: FilesystemStorage, registry: Registry) -> int:
    paths = await anyio.to_thread.run_sync(lambda: sorted(storage.root.glob(f"*{INFO_SUFFIX}")))
    imported = 0
    for path in paths:
        if not is_upload_id(path.name.removesuffix(INFO_SUFFIX)):
            continue
        legacy = msgspec.json.decode(
            await anyio.to_thread.run_sync(path.read_bytes), type=_LegacyInfo
        )
        imported += await _add(registry, legacy.row({}))
        await anyio.to_thread.run_sync(path.unlink)
    return imported


async def _import_s3(storage: Any, registry: Registry) -> int:
    client, bucket = storage.client, storage.bucket
    imported = 0
    token: str | None = None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = await storage.call(
            client.list_objects_v2, Bucket=bucket, Prefix=storage.prefix, **extra
        )
        for item in page.get("Contents", []):
            key = item["Key"]
            if not (key.endswith(INFO_SUFFIX) and is_upload_id(key[len(storage.prefix) : -5])):
                continue
            body = (await storage.call(client.get_object, Bucket=bucket, Key=key))["Body"]
            record = msgspec.json.decode(
                await anyio.to_thread.run_sync(body.read), type=_LegacyRecord
            )
            s3 = record.s3
            store = {
                "upload_id": None if s3.completed else s3.upload_id,
                "parts": [[p.number, p.etag, p.size] for p in s3.parts],
                "tail_key": s3.tail_key,
                "tail_size": s3.tail_size,
                "completed": s3.completed,
            }
            imported += await _add(registry, record.info.row(store))
            await storage.call(client.delete_object, Bucket=bucket, Key=key)
        if not page.get("IsTruncated"):
            return imported
        token = page["NextContinuationToken"]


async def _add(registry: Registry, info: UploadInfo) -> int:
    if await registry.get(info.id) is not None:
        return 0
    await registry.add(info)
    log.info("imported upload id=%s", info.id)
    return 1
