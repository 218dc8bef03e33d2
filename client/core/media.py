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
    """What probing the video told us. Width and height are the display size (after
    rotation); ``audio_codec`` is "" when there is no audio track."""

    width: int
    height: int
    duration: float
    fps: float = 30.0
    video_codec: str = ""
    audio_codec: str = ""
    container: str = ""
    browser_decodes: bool = False  # WebCodecs can decode the video track
    browser_reads: bool = False  # the browser (mediabunny) reads the container: its frames' times, its audio
    keyframes: tuple[float, ...] | None = None  # seconds, when the container lists them cheaply

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codec)


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


def _fps(rate: str | None) -> float:
    num, _, den = (rate or "").partition("/")
    try:
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 30.0
    return value if 0 < value <= 240 else 30.0


def media_from_ffprobe(data: dict) -> MediaInfo | None:
    """MediaInfo from ffprobe's JSON (display size: a ±90° rotation swaps the sides)."""
    streams = data.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    try:
        width, height = int(video["width"]), int(video["height"])  # type: ignore[index]
        duration = float(data["format"]["duration"])
    except (KeyError, TypeError, ValueError):
        return None
    rotation = next(
        (int(side.get("rotation", 0)) for side in video.get("side_data_list") or [] if "rotation" in side),
        0,
    )
    if rotation % 180:
        width, height = height, width
    if width <= 0 or height <= 0 or duration <= 0:
        return None
    return MediaInfo(
        width=width,
        height=height,
        duration=duration,
        fps=_fps(video.get("avg_frame_rate")),
        video_codec=str(video.get("codec_name", "")),
        audio_codec=str(audio.get("codec_name", "")) if audio else "",
        container=str(data["format"].get("format_name", "")),
    )
