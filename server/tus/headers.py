"""Strict parsing of the request headers tus cares about (pure: no framework imports).

Python's ``int()`` accepts ``" 12"``, ``"+5"``, ``"1_000"`` and non-ASCII digits;
tus allows none of those, so byte counts are matched against ``[0-9]{1,19}``.
"""

import re
from collections.abc import Sequence
from typing import Protocol

from server.tus.errors import DUPLICATE_HEADER, ErrorKind, TusError

_BYTE_COUNT = re.compile(r"[0-9]{1,19}")
MAX_BYTE_COUNT = 2**63 - 1


class HeaderReader(Protocol):
    """Any case-insensitive multi-mapping of headers (Litestar's ``Headers`` fits)."""

    def getall(self, key: str, default: list[str] | None = None) -> Sequence[str]: ...


def single(headers: HeaderReader, name: str) -> str | None:
    """The one value of ``name``, ``None`` if absent; sent twice is an error."""
    values = headers.getall(name, [])
    if len(values) > 1:
        raise TusError(DUPLICATE_HEADER, f"The {name} header was sent more than once.")
    return values[0] if values else None


def byte_count(value: str, kind: ErrorKind) -> int:
    """A non-negative integer that fits in 63 bits, or ``TusError(kind)``."""
    if _BYTE_COUNT.fullmatch(value) is None:
        raise TusError(kind)
    count = int(value)
    if count > MAX_BYTE_COUNT:
        raise TusError(kind)
    return count


def media_type(value: str) -> str:
    """``"Application/Offset+Octet-Stream; x=y"`` → ``"application/offset+octet-stream"``."""
    return value.split(";", 1)[0].strip().lower()
