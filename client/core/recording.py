"""Recording in the page, the pure part: what the camera is asked for, how its video is
encoded for the chosen preset (one table: ``client.core.presets``, the same bits per pixel
as the WebCodecs engine), the upload's key and metadata, and what the page says.

A recording's storage key and upload name are random ("rec-<uuid>", "recording-<6 hex>.mp4"):
never a date, a name or anything typed by the person.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from client.core.i18n import text
from client.core.media import MediaInfo
from client.core.messages import duration_text, human_size
from client.core.planner import fit_within
from client.core.presets import PRESETS
from client.core.webcodecs import KEY_INTERVAL_S, codec_string

PREFIX = "rec-"
REASON = "recorded"  # the upload's ``reason``: made by the page's camera, never compressed after
ENGINE = "webcodecs"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEFAULT_LONG_SIDE = 1920  # asked of the camera for a preset that keeps the source resolution
FALLBACK_FPS = 30.0


def stream_key(uuid: str) -> str:
    """The recording's key in the Origin Private File System (and its queue fingerprint)."""
    if not _UUID.fullmatch(uuid):
        raise ValueError("a recording's key is made from a random UUID")
    return PREFIX + uuid


def is_recording_key(key: str) -> bool:
    return key.startswith(PREFIX) and _UUID.fullmatch(key[len(PREFIX):]) is not None


def recording_name(key: str) -> str:
    """The stored file's name: random, like its key, so that it says nothing about anyone."""
    return f"recording-{key[len(PREFIX):len(PREFIX) + 6]}.mp4"


def camera_request(preset: str) -> tuple[int, int]:
    """The size (landscape 16:9) the camera is asked for: the preset's largest, so that the
    encoder is given frames at its own size where the camera has it."""
    long_side = PRESETS[preset].max_long_side or DEFAULT_LONG_SIDE
    return long_side, round(long_side * 9 / 16)


def encoder_config(preset: str, width: int, height: int, fps: float) -> dict[str, Any]:
    """The VideoEncoder config for the camera's actual ``width`` x ``height`` at ``fps``:
    within the preset's size, its bits per pixel (bitrate = bpp × width × height × fps),
    a keyframe every ``KEY_INTERVAL_S`` (one fragment each), real-time rate control."""
    fps = round(fps, 3) if fps > 0 else FALLBACK_FPS
    the_preset = PRESETS[preset]
    out_width, out_height = fit_within(width, height, the_preset.max_long_side)
    bitrate = round(the_preset.bits_per_pixel * out_width * out_height * fps)
    return {
        "codec": codec_string(out_width, out_height, fps, bitrate),
        "width": out_width,
        "height": out_height,
        "bitrate": bitrate,
        "framerate": fps,
        "latencyMode": "realtime",
        "keyIntervalS": KEY_INTERVAL_S,
    }


def audio_bitrate(preset: str) -> int:
    return PRESETS[preset].audio_bitrate_k * 1000


def upload_metadata(name: str, priority: str, preset: str, bitrate: int) -> dict[str, str]:
    """tus ``Upload-Metadata`` of a recording (only allow-listed keys)."""
    return {
        "filename": name,
        "filetype": "video/mp4",
        "priority": priority,
        "compressed": "1",
        "reason": REASON,
        "preset": preset,
        "engine": ENGINE,
        "bitrate": str(bitrate),
    }


class About(msgspec.Struct, frozen=True):
    """What is kept beside a recording's pieces (recording.json) to finish it after a reload."""

    name: str
    priority: str
    preset: str
    width: int
    height: int
    fps: float


class Recorded(msgspec.Struct, frozen=True):
    """A recording whose upload is complete: its URL, its size and length, and ``head``
    (a JS Blob: its init segment and first fragment, enough for a poster frame)."""

    url: str
    size: int
    duration: float
    head: Any


def media_of(about: About, duration: float) -> MediaInfo:
    """What the poster frame needs to know of a recording."""
    return MediaInfo(width=about.width, height=about.height, duration=duration, fps=about.fps,
                     video_codec="h264", container="mp4", browser_decodes=True)


# What the page says.

def clock(seconds: float) -> str:
    """Elapsed time as m:ss."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def live(seconds: float) -> str:
    return text("recording.live", elapsed=clock(seconds))


def finishing(percent: float) -> str:
    return text("recording.finishing", percent=f"{percent:.0f}")


def stored(size: int, duration: float, recovered: bool = False) -> str:
    key = "recording.recovered" if recovered else "recording.stored"
    return text(key, duration=duration_text(duration), size=human_size(size))


def problem(code: str) -> str:
    """A plain-language sentence for a recording that could not start or go on."""
    known = {"camera-denied", "camera-unavailable", "nothing-stored"}
    return text(f"recording.{code if code in known else 'failed'}")


def upload_failed(detail: str) -> str:
    return text("recording.upload_failed", detail=detail)


class Unseen:
    """A StatusView that shows nothing: a recording's row says its own words."""

    def show(self, status: object) -> None:
        pass
