"""Decide what to do with a video: compress it (how, with what) or send the original.

``plan`` is pure: it returns data and never acts.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from client.core.capabilities import Capabilities
from client.core.media import MediaInfo
from client.core.presets import DEFAULT_PRESET, PRESETS, Preset

Priority = Literal["routine", "urgent", "emergency"]
PRIORITIES: tuple[Priority, ...] = ("routine", "urgent", "emergency")

Engine = Literal["ffmpeg-mt", "ffmpeg"]


class Plan(msgspec.Struct, frozen=True):
    action: Literal["compress", "original"]
    reason: str  # a stable code, safe for logs and analytics
    preset: str | None = None
    engine: Engine | None = None
    threads: int = 1
    width: int = 0
    height: int = 0


def fit_within(width: int, height: int, max_long_side: int | None) -> tuple[int, int]:
    """Scale (width, height) so the long side is at most ``max_long_side``; both even.

    H.264 in yuv420p needs even dimensions, so odd results round down to even.
    """
    long_side = max(width, height)
    if max_long_side is not None and long_side > max_long_side:
        scale = max_long_side / long_side
        width, height = round(width * scale), round(height * scale)
    return max(2, width - width % 2), max(2, height - height % 2)


def plan(
    media: MediaInfo,
    caps: Capabilities,
    priority: Priority,
    preset_name: str = DEFAULT_PRESET,
) -> Plan:
    if priority == "emergency":
        return Plan(action="original", reason="emergency")
    preset: Preset = PRESETS[preset_name]
    width, height = fit_within(media.width, media.height, preset.max_long_side)
    return Plan(
        action="compress",
        reason="compress",
        preset=preset.name,
        engine="ffmpeg-mt" if caps.cross_origin_isolated else "ffmpeg",
        threads=caps.ffmpeg_threads,
        width=width,
        height=height,
    )
