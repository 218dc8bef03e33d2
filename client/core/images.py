"""Still images: how photos are re-encoded and how a video's poster frame is made.

Re-encoding a photo through a canvas keeps only its pixels, so EXIF (GPS location,
camera serial numbers, names) never leaves the device; orientation is applied first.
JPEG rather than WebP: every hospital viewer opens it.
"""

from __future__ import annotations

import msgspec


class ImageRequest(msgspec.Struct, frozen=True):
    max_side: int
    mime: str
    quality: float  # 0-1, the browser encoder's quality


PHOTO = ImageRequest(max_side=2560, mime="image/jpeg", quality=0.88)
POSTER = ImageRequest(max_side=480, mime="image/jpeg", quality=0.8)


def poster_second(duration: float) -> float:
    """Where to take the poster: one second in, or the middle of a shorter clip."""
    return max(0.0, min(1.0, duration / 2))


def with_extension(name: str, extension: str, suffix: str = "") -> str:
    stem, dot, _ = name.rpartition(".")
    return f"{stem if dot and stem else name}{suffix}.{extension}"
