"""The upload registry: every upload's state, in one place, behind one data-access layer.

`UploadInfo` is one upload's row. `Registry` is the seam the tus protocol uses;
`SqlRegistry` implements it on SQLAlchemy Core (SQLite embedded, PostgreSQL for
several instances), `MemoryRegistry` is the in-memory double for unit tests.
Rows are never logged whole: metadata and case references may be patient data.
"""

import time
from collections.abc import Iterable
from typing import Any, Literal, Protocol

import msgspec
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.schema import deployment, uploads
from server.storage.base import StoreState
from server.storage.ids import new_upload_id

ConcatKind = Literal["partial", "final"]
UploadState = Literal["receiving", "finished"]


class UploadInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One upload. Not ``forbid_unknown_fields``: a newer version may have written the row."""

    id: str
    owner: str
    length: int | None  # None: deferred (creation-defer-length)
    offset: int = 0
    metadata: dict[str, str] = {}
    case_ref: str | None = None  # opaque, from the host clinical system; never logged
    concat: ConcatKind | None = None
    parts: tuple[str, ...] = ()  # a final upload's partial uploads, in order
    state: UploadState = "receiving"
    store: StoreState = {}
    concatenated_into: str | None = None  # a partial upload: the final that holds its bytes
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def is_complete(self) -> bool:
        """Every byte has arrived (it may still need finishing)."""
        return self.length is not None and self.offset == self.length

    @property
    def finished(self) -> bool:
        return self.state == "finished"


class Usage(msgspec.Struct, frozen=True):
    """What one principal has under way (unfinished uploads) and started lately (bytes)."""

    active: int
    bytes: int


class OffsetConflict(Exception):
    """Progress was recorded against an offset the row no longer has: another writer (one
    that holds the upload's lock now) moved it."""


class Registry(Protocol):
    async def add(self, info: UploadInfo) -> None: ...

    async def get(self, upload_id: str) -> UploadInfo | None: ...

    async def update(self, upload_id: str, **changes: Any) -> UploadInfo:
        """Change fields of an existing row (``updated_at`` too); FileNotFoundError if it is gone."""
        ...

    async def advance(
        self, upload_id: str, *, expected: int, offset: int, store: StoreState
    ) -> UploadInfo:
        """Record write progress if the offset is still ``expected`` (compare and set), else
        raise `OffsetConflict`: a writer whose lock was lost never overwrites another's."""
        ...

    async def remove(self, upload_id: str) -> None: ...

    async def stale(self, cutoff: float, limit: int) -> list[UploadInfo]:
        """Unfinished uploads last changed before ``cutoff`` (Unix seconds), oldest first."""
        ...

    async def concatenated(self, limit: int) -> list[UploadInfo]:
        """Partial uploads whose bytes a finished final upload now holds."""
        ...

    async def existing(self, upload_ids: Iterable[str]) -> set[str]:
        """Which of ``upload_ids`` have a row."""
        ...

    async def listing(self) -> list[UploadInfo]:
        """Every upload, newest first (the admin listing)."""
        ...

    async def deployment_id(self) -> str:
        """This deployment's random id, made on first use."""
        ...

    async def usage(self, owner: str, *, active_since: float, created_since: float) -> Usage:
        """``owner``'s unfinished uploads changed since ``active_since``, and the bytes of
        the uploads it created since ``created_since`` (a final's parts not counted twice)."""
        ...


def _row(info: UploadInfo) -> dict[str, Any]:
    values = msgspec.structs.asdict(info)
    values["parts"] = list(info.parts)
    return values


def _info(row: Any) -> UploadInfo:
    return msgspec.convert(row, UploadInfo, from_attributes=True)


class SqlRegistry:
    def __init__(self, engine: AsyncEngine, clock: Any = time.time) -> None:
        self._engine = engine
        self._clock = clock

    async def add(self, info: UploadInfo) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(insert(uploads).values(_row(info)))

    async def get(self, upload_id: str) -> UploadInfo | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(uploads).where(uploads.c.id == upload_id))
            ).first()
        return None if row is None else _info(row)

    async def update(self, upload_id: str, **changes: Any) -> UploadInfo:
        changes["updated_at"] = self._clock()
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    update(uploads)
                    .where(uploads.c.id == upload_id)
                    .values(changes)
                    .returning(*uploads.c)
                )
            ).first()
        if row is None:
            raise FileNotFoundError(f"upload {upload_id} is gone")
        return _info(row)

    async def advance(
        self, upload_id: str, *, expected: int, offset: int, store: StoreState
    ) -> UploadInfo:
        async with self._engine.begin() as connection:
            row = (
                await connection.execute(
                    update(uploads)
                    .where(uploads.c.id == upload_id, uploads.c.offset == expected)
                    .values(offset=offset, store=store, updated_at=self._clock())
                    .returning(*uploads.c)
                )
            ).first()
        if row is None:
            raise OffsetConflict(upload_id)
        return _info(row)

    async def remove(self, upload_id: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(uploads).where(uploads.c.id == upload_id))

    async def stale(self, cutoff: float, limit: int) -> list[UploadInfo]:
        query = (
            select(uploads)
            .where(uploads.c.state != "finished", uploads.c.updated_at < cutoff)
            .order_by(uploads.c.updated_at)
            .limit(limit)
        )
        return await self._all(query)

    async def concatenated(self, limit: int) -> list[UploadInfo]:
        query = select(uploads).where(uploads.c.concatenated_into.is_not(None)).limit(limit)
        return await self._all(query)

    async def existing(self, upload_ids: Iterable[str]) -> set[str]:
        wanted = list(upload_ids)
        found: set[str] = set()
        async with self._engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                batch = wanted[start : start + 500]
                result = await connection.execute(
                    select(uploads.c.id).where(uploads.c.id.in_(batch))
                )
                found.update(result.scalars())
        return found

    async def listing(self) -> list[UploadInfo]:
        return await self._all(select(uploads).order_by(uploads.c.created_at.desc()))

    async def usage(self, owner: str, *, active_since: float, created_since: float) -> Usage:
        active = select(func.count()).where(
            uploads.c.owner == owner,
            uploads.c.state != "finished",
            uploads.c.updated_at >= active_since,
        )
        size = func.coalesce(uploads.c.length, uploads.c.offset)
        started = select(func.coalesce(func.sum(size), 0)).where(
            uploads.c.owner == owner,
            uploads.c.created_at >= created_since,
            uploads.c.concatenated_into.is_(None),  # a final counts its parts' bytes once
        )
        async with self._engine.connect() as connection:
            count = (await connection.execute(active)).scalar_one()
            total = (await connection.execute(started)).scalar_one()
        return Usage(active=int(count), bytes=int(total))

    async def deployment_id(self) -> str:
        async with self._engine.begin() as connection:
            found = (await connection.execute(select(deployment.c.id))).scalar()
        if found is not None:
            return str(found)
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert(deployment).values(singleton=1, id=new_upload_id()))
        except IntegrityError:
            pass  # another instance made it first
        async with self._engine.connect() as connection:
            return str((await connection.execute(select(deployment.c.id))).scalar_one())

    async def _all(self, query: Any) -> list[UploadInfo]:
        async with self._engine.connect() as connection:
            return [_info(row) for row in await connection.execute(query)]


class MemoryRegistry:
    """The same contract in a dict, for unit tests that need no database."""

    def __init__(self, clock: Any = time.time) -> None:
        self._rows: dict[str, UploadInfo] = {}
        self._clock = clock
        self._deployment = new_upload_id()

    async def add(self, info: UploadInfo) -> None:
        if info.id in self._rows:
            raise ValueError(f"upload {info.id} exists")
        self._rows[info.id] = info

    async def get(self, upload_id: str) -> UploadInfo | None:
        return self._rows.get(upload_id)

    async def update(self, upload_id: str, **changes: Any) -> UploadInfo:
        if upload_id not in self._rows:
            raise FileNotFoundError(f"upload {upload_id} is gone")
        info = msgspec.structs.replace(self._rows[upload_id], updated_at=self._clock(), **changes)
        self._rows[upload_id] = info
        return info

    async def advance(
        self, upload_id: str, *, expected: int, offset: int, store: StoreState
    ) -> UploadInfo:
        info = self._rows.get(upload_id)
        if info is None or info.offset != expected:
            raise OffsetConflict(upload_id)
        return await self.update(upload_id, offset=offset, store=store)

    async def remove(self, upload_id: str) -> None:
        self._rows.pop(upload_id, None)

    async def stale(self, cutoff: float, limit: int) -> list[UploadInfo]:
        rows = [i for i in self._rows.values() if not i.finished and i.updated_at < cutoff]
        return sorted(rows, key=lambda info: info.updated_at)[:limit]

    async def concatenated(self, limit: int) -> list[UploadInfo]:
        return [i for i in self._rows.values() if i.concatenated_into is not None][:limit]

    async def existing(self, upload_ids: Iterable[str]) -> set[str]:
        return {upload_id for upload_id in upload_ids if upload_id in self._rows}

    async def listing(self) -> list[UploadInfo]:
        return sorted(self._rows.values(), key=lambda info: info.created_at, reverse=True)

    async def deployment_id(self) -> str:
        return self._deployment

    async def usage(self, owner: str, *, active_since: float, created_since: float) -> Usage:
        mine = [info for info in self._rows.values() if info.owner == owner]
        active = [i for i in mine if not i.finished and i.updated_at >= active_since]
        started = [i for i in mine if i.created_at >= created_since and not i.concatenated_into]
        total = sum(i.length if i.length is not None else i.offset for i in started)
        return Usage(active=len(active), bytes=total)
