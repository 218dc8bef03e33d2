"""What we know about a chosen file, and the first verdict on it."""

from __future__ import annotations

from typing import Literal

import msgspec

Kind = Literal["video", "image", "other"]

VIDEO_EXTENSIONS = frozenset({"mp4", "m4v", "mov", "webm", "mkv", "avi", "3gp", "mpg", "mpeg"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "heic", "heif", "gif", "bmp"})


class FileFacts(msgspec.Struct, frozen=True):
    """Facts read from a JS ``File`` without reading its bytes."""

    name: str
    size: int
    mime: str = ""

    @property
    def extension(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        return ext.lower() if dot and stem else ""


class MediaInfo(msgspec.Struct, frozen=True):
    """What probing the video told us (display size, after rotation)."""

    width: int
    height: int
    duration: float


def classify(facts: FileFacts) -> Kind:
    """Video, image or something else, from the MIME type and then the extension."""
    major = facts.mime.partition("/")[0]
    if major in ("video", "image"):
        return major  # type: ignore[return-value]
    if facts.extension in VIDEO_EXTENSIONS:
        return "video"
    if facts.extension in IMAGE_EXTENSIONS:
        return "image"
    return "other"


def media_from_ffprobe(data: dict) -> MediaInfo | None:
    """MediaInfo from ffprobe's JSON (display size: a ±90° rotation swaps the sides)."""
    streams = data.get("streams") or []
    try:
        stream = streams[0]
        width, height = int(stream["width"]), int(stream["height"])
        duration = float(data["format"]["duration"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None
    rotation = next(
        (int(side.get("rotation", 0)) for side in stream.get("side_data_list") or [] if "rotation" in side),
        0,
    )
    if rotation % 180:
        width, height = height, width
    if width <= 0 or height <= 0 or duration <= 0:
        return None
    return MediaInfo(width=width, height=height, duration=duration)
