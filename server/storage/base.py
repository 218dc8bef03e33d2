"""The storage seam: what the tus protocol layer needs from a backend.

Modelled on tusd's ``pkg/handler/datastore.go``: a core `Storage` (create, get)
hands out `Upload` objects that only persist bytes and state. Every offset and
size check lives in the protocol layer; a backend trusts the offset it is given.

Each tus extension beyond the core is a `Capability` a backend declares in
``capabilities``; the protocol layer advertises exactly those in ``Tus-Extension``.
"""

import enum
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

import msgspec


class Capability(enum.StrEnum):
    CREATION = "creation"
    TERMINATION = "termination"
    CONCATENATION = "concatenation"
    CREATION_DEFER_LENGTH = "creation-defer-length"


class UploadInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The persisted state of one upload (never logged whole: metadata may be patient data)."""

    id: str
    length: int
    offset: int = 0
    owner: str
    metadata: dict[str, str] = {}
    finished: bool = False

    @property
    def is_complete(self) -> bool:
        return self.offset == self.length


class Upload(Protocol):
    @property
    def id(self) -> str: ...

    async def info(self) -> UploadInfo: ...

    async def write_chunk(self, offset: int, stream: AsyncIterable[bytes]) -> int:
        """Append ``stream`` at ``offset``; return the new offset once it is durable.

        Bytes received before ``stream`` ends or raises are kept: the new offset
        is persisted even when the stream fails, and the exception re-raised.
        """
        ...

    async def finish(self) -> None:
        """Mark a complete upload finished. Idempotent."""
        ...

    def read(self) -> AsyncIterator[bytes]:
        """Stream the stored bytes, in order, without loading them whole."""
        ...


class Storage(Protocol):
    capabilities: frozenset[Capability]

    async def create(self, length: int, metadata: dict[str, str], owner: str) -> Upload: ...

    async def get(self, upload_id: str) -> Upload | None: ...
