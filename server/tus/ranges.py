"""The ``Range`` request header for downloads: one ``bytes=`` range (pure).

Multiple ranges and anything malformed are ignored (the whole file is served),
as RFC 9110 allows; a well-formed range outside the file is 416.
"""

import re

from server.tus import errors
from server.tus.errors import TusError

_RANGE = re.compile(r"bytes=(?:(\d{1,19})-(\d{0,19})|-(\d{1,19}))")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` with ``end`` exclusive, ``None`` for the whole file."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        length = int(suffix)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(size - length, 0), size
    start = int(first)
    end = size if not last else int(last) + 1
    if last and int(last) < start:
        return None  # invalid: ignore
    if start >= size:
        raise _unsatisfiable(size)
    return start, min(end, size)


def _unsatisfiable(size: int) -> TusError:
    return TusError(errors.RANGE_NOT_SATISFIABLE, headers={"Content-Range": f"bytes */{size}"})
