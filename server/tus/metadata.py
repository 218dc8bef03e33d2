"""The tus ``Upload-Metadata`` header: parse, check against the allow-list, encode.

Format: comma-separated pairs ``key base64(value)``; the value may be omitted.
Values may be patient data (filenames), so they never appear in messages or logs;
keys are checked against an allow-list before anything is stored.
"""

import base64
import binascii
import re

from server.tus.errors import (
    INVALID_METADATA,
    METADATA_KEY_NOT_ALLOWED,
    METADATA_TOO_LARGE,
    TusError,
)

ALLOWED_KEYS = frozenset(
    {
        "filename",
        "filetype",
        "priority",
        "preset",
        "compressed",
        "original_size",
        "original_type",
        "reason",
        "engine",
        "bypass",
        "poster_for",  # upload id of the video a poster frame belongs to
        "stripped",  # 1: an original sent without its identifying container metadata
        "ssim",  # quality the browser measured against the source, when it measured it
        "crf",  # x264's CRF, chosen per clip by the rate probe
        "bitrate",  # WebCodecs' bits per second, chosen per clip by the rate probe
        "probe_s",  # seconds the rate probe took
        "uplink_kbps",  # the uplink the browser measured when it chose the engine
        "arrival_s",  # the browser's estimate of click → stored for that choice
    }
)
MAX_HEADER_BYTES = 4 * 1024
MAX_VALUE_BYTES = 1024
_KEY = re.compile(r"[!-+\--~]{1,64}")  # printable ASCII without space or comma


def parse_metadata(header: str | None, max_bytes: int = MAX_HEADER_BYTES) -> dict[str, str]:
    if header is None or not header.strip():
        return {}
    if len(header.encode("latin-1", "replace")) > max_bytes:
        raise TusError(METADATA_TOO_LARGE, f"Upload-Metadata must be at most {max_bytes} bytes.")
    metadata: dict[str, str] = {}
    for pair in header.split(","):
        key, value = _parse_pair(pair.strip())
        if key in metadata:
            raise TusError(INVALID_METADATA, f"Upload-Metadata has the key {key!r} twice.")
        metadata[key] = value
    return metadata


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode('ascii')}" if value else key
        for key, value in metadata.items()
    )


def _parse_pair(pair: str) -> tuple[str, str]:
    parts = pair.split(" ")
    if len(parts) > 2 or _KEY.fullmatch(parts[0]) is None:
        raise TusError(INVALID_METADATA, "Upload-Metadata has a malformed key/value pair.")
    key = parts[0]
    if key not in ALLOWED_KEYS:
        allowed = ", ".join(sorted(ALLOWED_KEYS))
        raise TusError(
            METADATA_KEY_NOT_ALLOWED,
            f"Upload-Metadata key {key!r} is not accepted; use only: {allowed}.",
        )
    return key, _decode_value(key, parts[1] if len(parts) == 2 else "")


def _decode_value(key: str, encoded: str) -> str:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise TusError(
            INVALID_METADATA, f"Upload-Metadata value for {key!r} is not valid base64."
        ) from None
    if len(raw) > MAX_VALUE_BYTES:
        raise TusError(
            METADATA_TOO_LARGE,
            f"Upload-Metadata value for {key!r} must be at most {MAX_VALUE_BYTES} bytes.",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TusError(
            INVALID_METADATA, f"Upload-Metadata value for {key!r} is not UTF-8 text."
        ) from None
