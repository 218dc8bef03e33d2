"""tus concatenation extension: the ``Upload-Concat`` header (pure).

``partial`` marks an upload as a part; ``final;<url> <url> ...`` asks for a new
upload made of finished partial uploads, in order. A URL may be absolute or a
path; either way it must end in ``/files/<id>``.
"""

import re
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from server.tus import errors
from server.tus.errors import TusError

MAX_PARTS = 1000
_PART_PATH = re.compile(r"(?:^|.*/)files/([0-9a-f]{32})/?")


class Concat(msgspec.Struct, frozen=True):
    kind: Literal["partial", "final"]
    parts: tuple[str, ...] = ()  # upload ids, for a final upload


def parse_concat(header: str | None) -> Concat | None:
    if header is None:
        return None
    value = header.strip()
    if value == "partial":
        return Concat("partial")
    kind, separator, urls = value.partition(";")
    if kind.strip() != "final" or not separator:
        raise TusError(errors.INVALID_CONCAT)
    ids = tuple(_part_id(url) for url in urls.split())
    if not ids:
        raise TusError(errors.INVALID_CONCAT, "Upload-Concat: final needs at least one part.")
    if len(ids) > MAX_PARTS:
        raise TusError(errors.INVALID_CONCAT, f"Upload-Concat: at most {MAX_PARTS} parts.")
    return Concat("final", ids)


def format_concat(kind: str, parts: tuple[str, ...], base_path: str) -> str:
    if kind == "partial":
        return "partial"
    return "final;" + " ".join(f"{base_path}/{part}" for part in parts)


def _part_id(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    match = _PART_PATH.fullmatch(path)
    if match is None:
        raise TusError(
            errors.INVALID_CONCAT, "Upload-Concat names a part that is not an upload URL."
        )
    return match.group(1)
