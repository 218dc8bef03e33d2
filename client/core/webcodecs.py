"""What the browser's H.264 encoder is asked for: the codec string names the lowest
level whose limits (macroblocks per frame and per second, High-profile bitrate) the
planned output fits, so ``VideoEncoder.isConfigSupported`` judges the real job."""

from __future__ import annotations

from math import ceil
from typing import Any

from client.core.planner import Plan
from client.core.presets import FIRST_KEY_INTERVAL_S, KEY_INTERVAL_S

# (level_idc, max macroblocks per frame, max macroblocks per second, max High bitrate)
LEVELS = (
    (0x28, 8_192, 245_760, 25_000_000),  # 4.0: 1080p30
    (0x29, 8_192, 245_760, 62_500_000),  # 4.1
    (0x2A, 8_704, 522_240, 62_500_000),  # 4.2: 1080p60
    (0x33, 36_864, 983_040, 300_000_000),  # 5.1: 4K30
    (0x34, 36_864, 2_073_600, 300_000_000),  # 5.2: 4K60
)


def codec_string(width: int, height: int, fps: float, bitrate: int) -> str:
    macroblocks = ceil(width / 16) * ceil(height / 16)
    for level, per_frame, per_second, max_bitrate in LEVELS:
        if macroblocks <= per_frame and macroblocks * fps <= per_second and bitrate <= max_bitrate:
            return f"avc1.6400{level:02x}"
    return f"avc1.6400{LEVELS[-1][0]:02x}"  # beyond 5.2: let the browser decide


def resumed_bitrate(kept: dict[str, Any] | None, plan: Plan, floor: float | None) -> int | None:
    """The bitrate to go on at when ``kept`` (the encoder options of an output an earlier run
    left unfinished) was made for this same job: same size, frame rate, keyframe interval and
    floor. Its rate probe is then not run again, and the engine continues after its last
    fragment; None: start over."""
    if not kept or not isinstance(kept.get("bitrate"), int):
        return None
    same = {
        "width": plan.width, "height": plan.height, "framerate": plan.fps, "keyIntervalS": KEY_INTERVAL_S,
        "abandonBelow": floor,
    }
    return kept["bitrate"] if all(kept.get(name) == value for name, value in same.items()) else None


def webcodecs_config(plan: Plan) -> dict[str, Any]:
    return {
        "codec": codec_string(plan.width, plan.height, plan.fps, plan.video_bitrate),
        "width": plan.width,
        "height": plan.height,
        "bitrate": plan.video_bitrate,
        "framerate": plan.fps,
        "keyIntervalS": KEY_INTERVAL_S,
        "firstKeyIntervalS": FIRST_KEY_INTERVAL_S,
    }
