"""The registry on both databases: rows round-trip, progress is compare-and-set, one
deployment id, and the orphan pass never touches storage another registry owns."""

import time

import pytest

from server.db.database import Database
from server.db.registry import MemoryRegistry, OffsetConflict, UploadInfo
from server.storage import MemoryStorage, new_upload_id
from server.tus.protocol import TusProtocol

pytestmark = pytest.mark.anyio


def _row(**fields: object) -> UploadInfo:
    now = time.time()
    values = {"id": new_upload_id(), "owner": "user:a", "length": 10, "created_at": now}
    return UploadInfo(**{**values, "updated_at": now, **fields})  # type: ignore[arg-type]


async def test_rows_round_trip(database: Database) -> None:
    row = _row(metadata={"filename": "é.mp4"}, parts=("a" * 32,), store={"k": [1, "x"]})
    await database.registry.add(row)
    assert await database.registry.get(row.id) == row
    assert await database.registry.existing([row.id, new_upload_id()]) == {row.id}
    await database.registry.remove(row.id)
    assert await database.registry.get(row.id) is None


async def test_progress_is_compare_and_set(database: Database) -> None:
    """A writer that lost its lock (its offset is stale) cannot overwrite the new holder's."""
    registry = database.registry
    row = _row()
    await registry.add(row)
    moved = await registry.advance(row.id, expected=0, offset=4, store={"parts": 1})
    assert (moved.offset, moved.store) == (4, {"parts": 1})
    with pytest.raises(OffsetConflict):
        await registry.advance(row.id, expected=0, offset=6, store={})
    assert (await registry.get(row.id)).offset == 4  # type: ignore[union-attr]


async def test_one_deployment_id(database: Database) -> None:
    first = await database.registry.deployment_id()
    assert len(first) == 32 and await database.registry.deployment_id() == first


async def test_the_orphan_pass_leaves_storage_of_another_deployment_alone() -> None:
    now = [1_000_000.0]
    storage = MemoryStorage()
    orphan = new_upload_id()
    await storage.create(orphan)
    storage._changed[orphan] = 0.0  # long ago
    ours = TusProtocol(storage, MemoryRegistry(), 100, expiry=60, clock=lambda: now[0])
    theirs = TusProtocol(storage, MemoryRegistry(), 100, expiry=60, clock=lambda: now[0])
    assert await theirs.remove_orphans() == 1  # the first registry claims the storage
    await storage.create(orphan)
    storage._changed[orphan] = 0.0
    assert await ours.remove_orphans() == 0  # a second, empty registry is not its owner
    assert orphan in storage.blobs
