"""The storage seam: what the tus protocol layer needs from a backend.

Modelled on tusd's ``pkg/handler/datastore.go`` and ``composer.go``: a core
`Storage` (create, get) hands out `Upload` objects that only persist bytes and
state. Every offset, size, ownership and expiry rule lives in the protocol
layer; a backend is told the offset to write at and checks only that it is the
one it has recorded.

Each tus extension beyond the core is a `Capability` a backend declares in
``capabilities``; the protocol layer advertises exactly those in ``Tus-Extension``
and calls the optional methods (`Terminator.terminate`, `Lister.list_ids`,
`Upload.declare_length`) only when the matching capability is declared.
"""

import enum
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Literal, Protocol, runtime_checkable

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

ConcatKind = Literal["partial", "final"]


class NewUpload(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the protocol layer asks a backend to create (the backend picks the id)."""

    length: int | None  # None: deferred (creation-defer-length)
    owner: str
    metadata: dict[str, str] = {}
    case_ref: str | None = None  # opaque, from the host clinical system; never logged
    concat: ConcatKind | None = None
    parts: tuple[str, ...] = ()  # for a final upload: the partial uploads, in order


class UploadInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The persisted state of one upload (never logged whole: metadata may be patient data)."""

    id: str
    length: int | None
    offset: int = 0
    owner: str
    metadata: dict[str, str] = {}
    case_ref: str | None = None
    concat: ConcatKind | None = None
    parts: tuple[str, ...] = ()
    finished: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0  # set by the backend whenever it saves this info

    @property
    def is_complete(self) -> bool:
        return self.length is not None and self.offset == self.length

    @classmethod
    def new(cls, upload_id: str, new: NewUpload, now: float) -> "UploadInfo":
        return cls(
            id=upload_id,
            length=new.length,
            owner=new.owner,
            metadata=dict(new.metadata),
            case_ref=new.case_ref,
            concat=new.concat,
            parts=new.parts,
            created_at=now,
            updated_at=now,
        )


class StaleOffsetError(ValueError):
    """``write_chunk`` was called at an offset other than the recorded one."""


Verify = Callable[[], None]


class Upload(Protocol):
    @property
    def id(self) -> str: ...

    async def info(self) -> UploadInfo: ...

    async def write_chunk(
        self, offset: int, stream: AsyncIterable[bytes], *, verify: Verify | None = None
    ) -> int:
        """Append ``stream`` at ``offset`` (the recorded offset); return the new durable offset.

        Without ``verify``: bytes received before ``stream`` ends or raises are
        kept; the new offset is persisted even when the stream fails (and the
        exception re-raised), and a backend may persist progress along the way.
        A persisted offset always covers durable, correct bytes only.

        With ``verify`` (checksums): all or nothing. ``verify()`` is called once
        the stream has ended; if the stream or ``verify`` raises, nothing is
        kept, the recorded offset is unchanged and the exception propagates.
        """
        ...

    async def declare_length(self, length: int) -> None:
        """Record the length of a deferred-length upload (creation-defer-length)."""
        ...

    async def finish(self) -> None:
        """Make a complete upload readable and mark it finished. Idempotent."""
        ...

    def read(self, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` of a finished upload without loading it whole."""
        ...


class Storage(Protocol):
    capabilities: frozenset[Capability]

    async def create(self, new: NewUpload) -> Upload: ...

    async def get(self, upload_id: str) -> Upload | None: ...


@runtime_checkable
class Terminator(Protocol):
    """termination (and expiration): remove an upload and everything stored for it."""

    async def terminate(self, upload_id: str) -> None: ...


@runtime_checkable
class Lister(Protocol):
    """expiration: enumerate upload ids so a sweep can find expired ones."""

    def list_ids(self) -> AsyncIterator[str]: ...


async def concatenated(parts: list[Upload]) -> AsyncIterator[bytes]:
    """The bytes of finished ``parts`` one after another (for concatenation)."""
    for part in parts:
        async for chunk in part.read():
            yield chunk


async def create_final(storage: Storage, new: NewUpload, parts: list[Upload]) -> Upload:
    """concatenation, for any backend: a new upload holding the parts' bytes, finished."""
    final = await storage.create(new)
    await final.write_chunk(0, concatenated(parts))
    await final.finish()
    return final
