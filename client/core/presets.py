"""Compression presets as data: what each is for and what it promises."""

from __future__ import annotations

import msgspec


class Preset(msgspec.Struct, frozen=True):
    name: str
    purpose: str
    max_long_side: int | None  # None keeps the source resolution
    crf: int  # x264 constant rate factor: lower is better quality and larger
    x264_preset: str
    audio_bitrate_k: int
    min_ssim: float  # quality floor against the source at output size


MEDICAL_STANDARD = Preset(
    name="medical-standard",
    purpose=(
        "Everyday clinical video (wounds, procedures, screens): at most 1280 px on the long "
        "side, quality kept well above what a reviewing clinician can tell apart."
    ),
    max_long_side=1280,
    crf=23,
    x264_preset="veryfast",
    audio_bitrate_k=96,
    min_ssim=0.97,
)

PRESETS: dict[str, Preset] = {p.name: p for p in (MEDICAL_STANDARD,)}
DEFAULT_PRESET = MEDICAL_STANDARD.name
