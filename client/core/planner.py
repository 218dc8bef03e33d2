"""Decide what to do with a video: compress it (how, on which engines, within what
time) or send the original, and why. ``plan`` is pure: it returns data, never acts.

Neither engine's rate is fixed per preset: the plan says where a probe samples the clip
(``Plan.windows``), ``probe_crfs`` at which CRFs x264 encodes the samples and
``probe_bitrates`` at which bitrates the browser's encoder does; ``choose_crf`` and
``choose_bitrate`` turn the samples' measured SSIM into the cheapest setting predicted to
clear the preset's floor by the margin.

Which engine goes first depends on the link as well as the clip: ``by_arrival`` puts first
the engine whose output is estimated to be stored soonest (compression, then upload at the
uplink ``client.core.link`` measured). On a fast link the browser's quick encoder wins; on
a slow one x264's smaller output can win despite its slower encode.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec

from client.core.capabilities import Capabilities
from client.core.link import ASSUMED, Uplink
from client.core.media import MediaInfo
from client.core.presets import DEFAULT_PRESET, PRESETS, Preset, gate_ssim, target_ssim
from client.core.rate import (
    STEER_MARGIN,
    Aim,
    Choice,
    Window,
    highest_crf,
    least_bitrate,
    probe_windows,
    sampled_slope,
)
from client.core.segments import segment_bounds

Priority = Literal["routine", "urgent", "emergency"]
PRIORITIES: tuple[Priority, ...] = ("routine", "urgent", "emergency")

Engine = Literal["webcodecs", "ffmpeg-mt", "ffmpeg"]

# Input megapixels decoded+encoded per second on a 2-core machine (bench/compress.py),
# and each engine's start-up (loading its worker and, for ffmpeg, 32 MB of wasm).
ENGINE_SPEED_MPX_S: dict[str, float] = {"webcodecs": 200.0, "ffmpeg-mt": 45.0, "ffmpeg": 24.0}
ENGINE_STARTUP_S: dict[str, float] = {"webcodecs": 0.5, "ffmpeg-mt": 2.0, "ffmpeg": 1.5}

# x264 at its probed CRF ships about half the video bytes the browser's encoder needs for the
# same floor (bench/compress.py: 1.4-3.8x fewer at equal SSIM, 2.0x on the phone-like clip).
X264_SIZE_RATIO = 0.5

SMALL_FILE_BYTES = 1_000_000  # below this, compressing saves too little to be worth a wait
MIN_GAIN = 0.25  # compress only when the estimate saves at least a quarter of the bytes


class Limits(msgspec.Struct, frozen=True):
    """How long compression may take. Budgets are (floor seconds, seconds per second of
    video); emergency never compresses, so it has none."""

    stall_s: float = 30.0  # an engine that reports no progress for this long is stopped
    urgent_budget: tuple[float, float] = (30.0, 1.0)
    routine_budget: tuple[float, float] = (120.0, 8.0)

    def budget(self, priority: Priority, duration: float) -> float:
        floor, per_second = self.urgent_budget if priority == "urgent" else self.routine_budget
        return max(floor, per_second * duration)


DEFAULT_LIMITS = Limits()


class Plan(msgspec.Struct, frozen=True):
    action: Literal["compress", "original"]
    reason: str  # a stable code, safe for logs and analytics
    preset: str | None = None
    engines: tuple[Engine, ...] = ()  # tried in order; the original is the last resort
    threads: int = 1
    width: int = 0
    height: int = 0
    fps: float = 0.0
    video_bitrate: int = 0  # WebCodecs target, bits/s
    crf: float | None = None  # x264's CRF when there is no probe (None: the preset's)
    duration: float = 0.0  # of the clip, seconds
    windows: tuple[Window, ...] = ()  # where the rate probe samples the clip; () no probe
    webcodecs_windows: tuple[Window, ...] = ()  # where the browser encoder's probe does
    segments: tuple[float, ...] = ()  # where x264's runs begin when its output is streamed (s)
    estimated_bytes: int = 0  # of the first engine's output
    estimated_seconds: float = 0.0  # the first engine's compression
    uplink: Uplink = ASSUMED  # what the engine order was chosen for
    arrival_s: float = 0.0  # estimated click → stored on the first engine
    budget_s: float = 0.0  # wall-clock allowance for compression
    stall_s: float = 0.0


def fit_within(width: int, height: int, max_long_side: int | None) -> tuple[int, int]:
    """Scale (width, height) so the long side is at most ``max_long_side``; both even.

    H.264 in yuv420p needs even dimensions, so odd results round down to even.
    """
    long_side = max(width, height)
    if max_long_side is not None and long_side > max_long_side:
        scale = max_long_side / long_side
        width, height = round(width * scale), round(height * scale)
    return max(2, width - width % 2), max(2, height - height % 2)


def engine_order(media: MediaInfo, caps: Capabilities) -> tuple[Engine, ...]:
    if caps.forced_engine:
        return (caps.forced_engine,)  # type: ignore[return-value]
    ffmpeg: Engine = "ffmpeg-mt" if caps.cross_origin_isolated else "ffmpeg"
    # WebCodecs copies AAC through and has no other audio encoder: never drop a track.
    webcodecs_fits = caps.webcodecs and media.browser_decodes and media.audio_codec in ("", "aac")
    return ("webcodecs", ffmpeg) if webcodecs_fits else (ffmpeg,)


def estimate_seconds(media: MediaInfo, engine: str, windows: tuple[Window, ...] = ()) -> float:
    """Start-up, the rate probe over ``windows`` and the encode, on this engine."""
    return ENGINE_STARTUP_S[engine] + _seconds_of_video(media, media.duration + probed_seconds(engine, windows), engine)


def probed_seconds(engine: str, windows: tuple[Window, ...]) -> float:
    """Seconds of video the rate probe encodes: each window once per setting (x264's windows
    were 20-35 % of a 10 s clip's encoding time, as this counts them)."""
    if engine == "webcodecs":  # at most as many windows, each at least WEBCODECS_WINDOW_S
        return len(PROBE_RATE_FACTORS) * sum(max(w.length, WEBCODECS_WINDOW_S) for w in windows)
    return len(PROBE_CRF_OFFSETS) * sum(w.length for w in windows)


def output_bytes(engine: str, duration: float, video_bitrate: int, audio_bitrate: int) -> int:
    """The estimated output: the preset's bits on the browser's encoder, fewer on x264's."""
    video = video_bitrate * (1.0 if engine == "webcodecs" else X264_SIZE_RATIO)
    return round((video + audio_bitrate) * duration / 8)


def arrival_seconds(compress_s: float, size: int, link: Uplink) -> float:
    """Click → stored: compress, then send the whole output."""
    return compress_s + 8 * size / link.bps


def by_arrival(
    engines: tuple[Engine, ...], media: MediaInfo, windows: tuple[Window, ...], bitrates: tuple[int, int],
    budget_s: float, link: Uplink,
) -> tuple[Engine, ...]:
    """The engines, the one whose output should be stored soonest first; one whose
    compression would not fit the time budget never goes ahead of one that would."""
    def key(engine: Engine) -> tuple[bool, float]:
        seconds = estimate_seconds(media, engine, windows)
        size = output_bytes(engine, media.duration, *bitrates)
        return seconds > budget_s, arrival_seconds(seconds, size, link)
    return tuple(sorted(engines, key=key))


def _seconds_of_video(media: MediaInfo, seconds: float, engine: str) -> float:
    return media.width * media.height * media.fps * seconds / 1e6 / ENGINE_SPEED_MPX_S[engine]


def plan(
    media: MediaInfo,
    size: int,
    caps: Capabilities,
    priority: Priority,
    preset_name: str = DEFAULT_PRESET,
    limits: Limits | None = None,
    link: Uplink = ASSUMED,
) -> Plan:
    if priority == "emergency":
        return Plan(action="original", reason="emergency")
    if size < SMALL_FILE_BYTES:
        return Plan(action="original", reason="small-file")
    preset: Preset = PRESETS[preset_name]
    width, height = fit_within(media.width, media.height, preset.max_long_side)
    video_bitrate = round(preset.bits_per_pixel * width * height * media.fps)
    audio_bitrate = preset.audio_bitrate_k * 1000 if media.has_audio else 0
    largest = output_bytes("webcodecs", media.duration, video_bitrate, audio_bitrate)
    if largest > (1 - MIN_GAIN) * size:
        return Plan(action="original", reason="little-gain", estimated_bytes=largest)
    windows = probe_windows(media.duration, media.keyframes)
    budget_s = (limits or DEFAULT_LIMITS).budget(priority, media.duration)
    bitrates = (video_bitrate, audio_bitrate)
    engines = by_arrival(engine_order(media, caps), media, windows, bitrates, budget_s, link)
    compress_s = estimate_seconds(media, engines[0], windows)
    output = output_bytes(engines[0], media.duration, *bitrates)
    return Plan(
        action="compress",
        reason="compress",
        preset=preset.name,
        engines=engines,
        threads=caps.ffmpeg_threads,
        width=width,
        height=height,
        fps=media.fps,
        video_bitrate=video_bitrate,
        crf=preset.crf,
        duration=media.duration,
        windows=windows,
        webcodecs_windows=webcodecs_windows(media) if windows else (),
        segments=segment_bounds(media.duration, media.keyframes),
        estimated_bytes=output,
        estimated_seconds=round(compress_s, 1),
        uplink=link,
        arrival_s=round(arrival_seconds(compress_s, output, link), 1),
        budget_s=budget_s,
        stall_s=(limits or DEFAULT_LIMITS).stall_s,
    )


# The probe's CRFs around the preset's: one either side of it. Three settings cost half as
# much again as two, but keep the interpolation local where SSIM bends (noisy sources, whose
# noise x264 stops coding past some CRF, lose SSIM steeply and then hardly at all).
PROBE_CRF_OFFSETS = (-4.0, 0.0, 4.0)


def probe_crfs(the_plan: Plan) -> tuple[float, ...]:
    """The CRFs the probe encodes its windows at (none when the plan has no windows)."""
    if not the_plan.windows or the_plan.preset is None:
        return ()
    low, high = PRESETS[the_plan.preset].crf_range
    centre = the_plan.crf if the_plan.crf is not None else PRESETS[the_plan.preset].crf
    return tuple(sorted({min(high, max(low, centre + offset)) for offset in PROBE_CRF_OFFSETS}))


def choose_crf(the_plan: Plan, crfs: tuple[float, ...], scores: dict[int, float]) -> Choice:
    """The CRF to encode at, from the probe's measured SSIM (``scores[i]`` for ``crfs[i]``);
    without any (no probe, or it failed) the plan's own."""
    if the_plan.preset is None:
        raise ValueError("only a compress plan has a CRF")
    samples = [(crf, scores[i]) for i, crf in enumerate(crfs) if i in scores]
    if not samples:
        fixed = the_plan.crf if the_plan.crf is not None else PRESETS[the_plan.preset].crf
        return Choice(setting=fixed, predicted=float("nan"), how="fixed")
    return highest_crf(samples, target_ssim(the_plan.preset), *PRESETS[the_plan.preset].crf_range)


# The browser's encoder: the probe's bitrates and the bounds of the choice, as factors of the
# preset's own (Plan.video_bitrate, from its bits per pixel). Pre-scaled, OpenH264 reached the
# standard floor at about a third of the preset's bits on the benchmark's phone-like clip;
# heavy noise needs all of them and more. Its windows are longer than x264's: its rate
# control spends the first frames of each window settling (rate-probe.js predicts from the
# settled part): half a second cost at most a fifth of the encode's time and read from 0.004
# above (the test pattern of tests/e2e/test_rate_probe.py) to 0.008 below the whole encode, so
# the choice aims PROBE_READS_HIGH above the usual target.
PROBE_RATE_FACTORS = (0.3, 0.6, 1.2)
PROBE_READS_HIGH = 0.004
RATE_BOUNDS = (0.15, 2.5)
WEBCODECS_WINDOW_S = 0.5


def probe_bitrates(the_plan: Plan) -> tuple[int, ...]:
    """The bitrates the WebCodecs probe encodes its windows at (none without windows)."""
    if not the_plan.webcodecs_windows or the_plan.preset is None:
        return ()
    return tuple(round(the_plan.video_bitrate * factor) for factor in PROBE_RATE_FACTORS)


def webcodecs_windows(media: MediaInfo) -> tuple[Window, ...]:
    """Where the browser encoder's probe samples the clip: windows long enough for its rate
    control to settle, each on a keyframe where the clip's keyframes are known. The browser
    decodes 1080p at about 12 ms a frame, and the probe is the wait before the first fragment:
    frames decoded before a window only to reach it cost more here than fewer windows do,
    since the steered encode corrects what they predict (``rate.steered_bitrate``). On the
    benchmark's phone-like clip (keyframes at 0 and 8.3 s) that is one window instead of two
    after 43 frames decoded in vain: the probe took 0.55 s instead of 1.2–1.4."""
    return probe_windows(media.duration, media.keyframes, length_s=WEBCODECS_WINDOW_S, max_lead_s=0.0)


def choose_bitrate(the_plan: Plan, samples: list[tuple[int, float | None]]) -> Choice:
    """The bitrate to encode at, from the probe's (bitrate, predicted SSIM) samples (SSIM
    None: a bitrate the encoder refused); without any, the plan's own."""
    preset, measured, (low, high) = _bitrate_inputs(the_plan, samples)
    if not measured:
        return Choice(setting=the_plan.video_bitrate, predicted=float("nan"), how="fixed")
    return least_bitrate(measured, target_ssim(preset) + PROBE_READS_HIGH, low, high)


def steer_aim(the_plan: Plan, samples: list[tuple[int, float | None]]) -> Aim:
    """Where the encode steers its bitrate (``rate.steered_bitrate``): just above the gate,
    with the slope the probe's samples show, within the bounds of ``choose_bitrate``."""
    preset, measured, (low, high) = _bitrate_inputs(the_plan, samples)
    return Aim(goal=gate_ssim(preset) + STEER_MARGIN, slope=sampled_slope(measured), lowest=low, highest=high)


def _bitrate_inputs(
    the_plan: Plan, samples: list[tuple[int, float | None]]
) -> tuple[str, list[tuple[int, float]], tuple[int, int]]:
    """A compress plan's preset, the probe's samples that were measured (a bitrate the encoder
    refused has None) and the bounds of the bitrate (RATE_BOUNDS of the preset's)."""
    if the_plan.preset is None:
        raise ValueError("only a compress plan has a bitrate")
    measured = [(rate, ssim) for rate, ssim in samples if ssim is not None]
    low, high = (round(the_plan.video_bitrate * factor) for factor in RATE_BOUNDS)
    return the_plan.preset, measured, (low, high)


# The probe's half-second windows read up to this much below the whole encode: only a
# prediction further below the gate than this rules an engine out before it encodes.
PROBE_READS_LOW = 0.008


def out_of_reach(the_plan: Plan, choice: Choice) -> bool:
    """Whether the probe shows that even the most bits allowed cannot clear the gate: the
    engine is then given up before encoding (the quality gate's verdict from the probe)."""
    if the_plan.preset is None or choice.how != "best-bound" or math.isnan(choice.predicted):
        return False
    return choice.predicted < gate_ssim(the_plan.preset) - PROBE_READS_LOW


def without_engine(the_plan: Plan, engine: str) -> Plan:
    """The plan minus one engine (found unusable in this browser)."""
    return msgspec.structs.replace(the_plan, engines=tuple(e for e in the_plan.engines if e != engine))


def lighter(
    the_plan: Plan, media: MediaInfo, size: int, caps: Capabilities, priority: Priority, limits: Limits
) -> Plan | None:
    """The same job on the next lighter preset (for the same link), or None if there is none."""
    name = PRESETS[the_plan.preset].lighter if the_plan.preset else None
    if name is None:
        return None
    retry = plan(media, size, caps, priority, name, limits, the_plan.uplink)
    return retry if retry.action == "compress" else None


BOOST = 2.0  # WebCodecs bitrate factor for a second try below the quality floor


def boosted(the_plan: Plan) -> Plan:
    """The same plan with more bits for the browser's encoder, and no probe: twice the
    preset's bits, at once."""
    return msgspec.structs.replace(the_plan, video_bitrate=round(the_plan.video_bitrate * BOOST), windows=())
