"""The storage seam: byte stores, free of protocol state.

Modelled on tusd's ``pkg/handler/datastore.go``: a backend persists bytes and
nothing else. Who owns an upload, its length, its offset, its expiry and
whether it is finished live in the registry (`server.db.registry`); a backend
only keeps its own progress (``StoreState``: an S3 multipart upload id, its
parts' ETags, a tail object's key), which it hands to ``checkpoint`` after each
durable step so the registry records it together with the offset it covers.

Every method is given the upload id and the last recorded ``StoreState``; none
reads protocol state. Each tus extension beyond the core is a `Capability` a
backend declares; the protocol layer advertises exactly those.
"""

import enum
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import msgspec


class Capability(enum.StrEnum):
    CREATION = "creation"
    CREATION_WITH_UPLOAD = "creation-with-upload"
    CREATION_DEFER_LENGTH = "creation-defer-length"
    EXPIRATION = "expiration"
    CHECKSUM = "checksum"
    TERMINATION = "termination"
    CONCATENATION = "concatenation"


ALL_CAPABILITIES = frozenset(Capability)

StoreState = dict[str, Any]
Verify = Callable[[], None]
Checkpoint = Callable[[int, StoreState], Awaitable[None]]


class Written(msgspec.Struct, frozen=True):
    """Where a write ended: the durable offset and the store state that covers it."""

    offset: int
    store: StoreState


class Part(msgspec.Struct, frozen=True):
    """A finished upload to be concatenated: its id, store state and length."""

    id: str
    store: StoreState
    length: int


class Storage(Protocol):
    capabilities: frozenset[Capability]

    async def create(self, upload_id: str) -> StoreState:
        """Prepare to receive bytes for a new upload."""
        ...

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
        """Append ``stream`` at ``offset`` (the recorded one); return where it ended.

        Every durable step is handed to ``checkpoint(offset, store)`` before the
        next begins, the last one before this returns (so the registry always
        holds an offset covering durable, correct bytes only).

        Without ``verify``: bytes received before ``stream`` ends or raises are
        kept and checkpointed even when the stream fails (the exception is
        re-raised). With ``verify`` (checksums): all or nothing; ``verify()`` is
        called once the stream has ended and, if it or the stream raises,
        nothing is kept and nothing is checkpointed.
        """
        ...

    async def finish(self, upload_id: str, store: StoreState, length: int) -> StoreState:
        """Make a complete upload readable. Idempotent, and safe to repeat after it
        (partly) happened: a crash or an error midway is finished by the next call."""
        ...

    def read(self, upload_id: str, store: StoreState, start: int, end: int) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` of a finished upload without loading it whole."""
        ...

    async def delete(self, upload_id: str, store: StoreState) -> None:
        """Remove everything stored for the upload (termination, expiry). Idempotent."""
        ...

    async def concatenate(self, upload_id: str, parts: list[Part]) -> StoreState:
        """A new, finished upload holding the parts' bytes one after another, assembled
        by the store itself (no bytes through the request)."""
        ...

    async def ping(self) -> None:
        """Raise if the storage cannot be reached (for ``/readyz``)."""
        ...

    async def claim(self, deployment_id: str) -> bool:
        """Mark the storage as this deployment's if it carries no mark yet; say whether it
        is this deployment's (only then may its unlisted bytes be treated as orphans)."""
        ...

    async def remove_orphans(
        self, known: Callable[[list[str]], Awaitable[set[str]]], older_than: float
    ) -> int:
        """Remove bytes of uploads the registry does not know (``known`` says which it
        does), last changed before ``older_than`` (Unix seconds); return how many."""
        ...


class StaleOffsetError(ValueError):
    """A write was asked at an offset other than the one the store holds."""
