"""Compression presets as data: what each is for, how it encodes, what it promises.

``min_ssim`` is the quality floor, measured as SSIM (ffmpeg's ``All``: luma and chroma)
against the source scaled to the output size; ``bench/compress.py`` checks every preset
against it. x264's CRF is not fixed: a probe picks, per clip, the highest CRF within
``crf_range`` predicted to clear the floor by ``SSIM_MARGIN`` (``client.core.rate``), around
``crf``, which is also the setting of a clip too short to probe. ``bits_per_pixel`` sets the
WebCodecs bitrate (bits per output pixel per frame): OpenH264 needs more bits than x264 for
the same quality, so it is tuned per preset against the floor.
"""

from __future__ import annotations

import msgspec


class Preset(msgspec.Struct, frozen=True):
    name: str
    purpose: str
    max_long_side: int | None  # None keeps the source resolution
    crf: int  # x264 constant rate factor (ffmpeg.wasm): lower is better and larger
    # (best, cheapest): the CRFs the probe may choose from. Below the best end x264 veryfast's
    # output usually outgrows a phone's source (the original goes instead); past the cheapest
    # end blocking shows on detail even where a flat scene keeps SSIM high.
    crf_range: tuple[float, float]
    x264_preset: str
    bits_per_pixel: float  # WebCodecs H.264 bitrate = bpp × width × height × fps
    audio_bitrate_k: int
    min_ssim: float
    lighter: str | None = None  # the preset to retry with when this one runs over time


MEDICAL_HIGH = Preset(
    name="medical-high",
    purpose=(
        "Fine detail that matters to a diagnosis (ultrasound screens, dermatology close-ups): "
        "keeps the source resolution and spends bits to stay visually lossless."
    ),
    max_long_side=None,
    crf=20,
    crf_range=(12.0, 30.0),
    x264_preset="veryfast",
    bits_per_pixel=0.16,
    audio_bitrate_k=128,
    min_ssim=0.98,
    lighter="medical-standard",
)

MEDICAL_STANDARD = Preset(
    name="medical-standard",
    purpose=(
        "Everyday clinical video (wounds, procedures, gait): at most 1280 px on the long side, "
        "quality kept well above what a reviewing clinician can tell apart."
    ),
    max_long_side=1280,
    crf=23,
    crf_range=(14.0, 32.0),
    x264_preset="veryfast",
    bits_per_pixel=0.10,
    audio_bitrate_k=96,
    min_ssim=0.97,
    lighter="mobile-fast",
)

MOBILE_FAST = Preset(
    name="mobile-fast",
    purpose=(
        "Getting something through a weak connection quickly (triage, a first look): at most "
        "854 px on the long side, smallest files, still clearly readable."
    ),
    max_long_side=854,
    crf=26,
    crf_range=(16.0, 35.0),
    x264_preset="veryfast",
    bits_per_pixel=0.08,
    audio_bitrate_k=64,
    min_ssim=0.95,
)

# Margins above the floor. A rate is chosen to reach floor + SSIM_MARGIN. Every output is then
# measured with ffmpeg's SSIM arithmetic on sampled frames (x264's by ffmpeg itself on the
# probe's windows, or whole when there was no probe; the browser encoder's by our kernel, on
# luma, every third frame) and must clear floor + SAMPLED_MARGIN: sampling read from 0.0014
# below to 0.0028 above the whole clip on the benchmark's clips, and a gate a little below the
# target lets a prediction a little off still ship. The browser's fallback estimate through
# RGB canvases read up to 0.0045 high against ffmpeg's: it is held to SSIM_MARGIN.
# Every video output has a keyframe this often (s), each beginning a fragment of a streamed one.
KEY_INTERVAL_S = 2.0
# The browser encoder's second keyframe comes this soon (s): its first fragment, and so the
# upload, begins half a second sooner (one more keyframe costs about 1 % of a 10 s clip).
FIRST_KEY_INTERVAL_S = 1.0

SSIM_MARGIN = 0.005
SAMPLED_MARGIN = 0.003


def target_ssim(preset: str) -> float:
    """What a rate is chosen to reach: the preset's floor plus the margin."""
    return PRESETS[preset].min_ssim + SSIM_MARGIN


def gate_ssim(preset: str, estimated: bool = False) -> float:
    """What a measured output must reach to ship (``estimated``: measured through canvases)."""
    return PRESETS[preset].min_ssim + (SSIM_MARGIN if estimated else SAMPLED_MARGIN)


PRESETS: dict[str, Preset] = {p.name: p for p in (MEDICAL_HIGH, MEDICAL_STANDARD, MOBILE_FAST)}
DEFAULT_PRESET = MEDICAL_STANDARD.name
