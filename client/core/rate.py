"""The least rate that clears a quality floor, chosen from a few measured samples. Pure.

A probe encodes short windows of the clip at two or three settings and measures each
output's SSIM against the source; this module says where those windows go
(``probe_windows``) and turns the samples into the one setting the real encode uses
(``highest_crf`` for x264, ``least_bitrate`` for an encoder steered by bitrate).

SSIM is close to linear in x264's CRF, and in log(bitrate) for a bitrate-driven encoder, so
both are solved on a line in a *quality coordinate* ``q`` along which SSIM rises
(``q = -crf``; ``q = ln bitrate``):

- the samples are first made monotone, conservatively: a sample never predicts more quality
  than a costlier one measured (measurement noise can invert two close samples);
- the target lies between two samples: linear interpolation between the nearest pair;
- every sample clears the target: the line through the cheapest pair is followed towards
  cheaper settings, but at most ``reach`` beyond the cheapest sample (a flat or noisy pair
  would otherwise run off to nonsense), and never past the cheapest bound;
- no sample clears it: the line through the costliest pair is followed towards quality if
  it reaches the target within ``reach``; otherwise the answer is the highest-quality bound
  (a best effort: the output is measured after encoding and the pipeline falls back to the
  next engine or the original if it misses the floor);
- a single sample: that sample's setting if it clears the target, else the best bound.

The setting is rounded in the safe direction (a lower CRF, a higher bitrate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import msgspec

Sample = tuple[float, float]  # (setting, measured SSIM)
How = Literal["interpolated", "extrapolated", "measured", "best-bound", "cheapest-bound", "fixed"]

CRF_REACH = 4.0  # CRF steps an extrapolation may go beyond the samples
BITRATE_REACH = math.log(2.0)  # bitrate: at most double or halve beyond the samples
CRF_STEP = 0.5  # x264 takes fractional CRFs; finer steps change nothing measurable


class Choice(msgspec.Struct, frozen=True):
    setting: float  # the CRF or bitrate to encode at
    predicted: float  # the SSIM the samples predict for it
    how: How


def highest_crf(
    samples: Sequence[Sample], target: float, lowest: float, highest: float, reach: float = CRF_REACH
) -> Choice:
    """The highest (cheapest) x264 CRF in [lowest, highest] predicted to reach ``target``."""
    q, predicted, how = _solve([(-crf, ssim) for crf, ssim in samples], target, -highest, -lowest, reach)
    crf = max(lowest, math.floor(-q / CRF_STEP + 1e-9) * CRF_STEP)
    return Choice(setting=crf, predicted=predicted, how=how)


def least_bitrate(
    samples: Sequence[Sample], target: float, lowest: float, highest: float, reach: float = BITRATE_REACH
) -> Choice:
    """The lowest bitrate in [lowest, highest] (bits/s) predicted to reach ``target``."""
    points = [(math.log(rate), ssim) for rate, ssim in samples if rate > 0]
    q, predicted, how = _solve(points, target, math.log(lowest), math.log(highest), reach)
    return Choice(setting=min(highest, math.ceil(math.exp(q) - 1e-6)), predicted=predicted, how=how)


def _solve(
    points: list[tuple[float, float]], target: float, cheapest: float, best: float, reach: float
) -> tuple[float, float, How]:
    """The least q in [cheapest, best] whose predicted SSIM reaches ``target``."""
    if not points:
        return best, math.nan, "best-bound"
    points = _monotone(points)
    if len(points) == 1:
        q, ssim = points[0]
        return (_within(q, cheapest, best), ssim, "measured") if ssim >= target else (best, ssim, "best-bound")
    first = next((i for i, (_, ssim) in enumerate(points) if ssim >= target), None)
    if first is None:  # nothing measured reaches it: towards quality, carefully
        (q0, s0), (q1, s1) = points[-2:]
        slope = (s1 - s0) / (q1 - q0)
        step = (target - s1) / slope if slope > 0 else math.inf
        if step <= reach and q1 + step <= best:
            return q1 + step, target, "extrapolated"
        return best, _line(q0, s0, q1, s1, best), "best-bound"
    if first > 0:  # between two samples
        (q0, s0), (q1, s1) = points[first - 1], points[first]
        q = q0 + (target - s0) * (q1 - q0) / (s1 - s0)
        return _within(q, cheapest, best), target, "interpolated"
    # every sample reaches it: towards cheaper, no further than reach
    (q0, s0), (q1, s1) = points[:2]
    slope = (s1 - s0) / (q1 - q0)
    step = min(reach, (s0 - target) / slope if slope > 0 else math.inf)
    if q0 - step <= cheapest:
        return cheapest, _line(q0, s0, q1, s1, cheapest), "cheapest-bound"
    return q0 - step, _line(q0, s0, q1, s1, q0 - step), "extrapolated" if step > 0 else "measured"


def _monotone(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted by q, with SSIM non-decreasing: each sample capped by every costlier one."""
    merged: dict[float, float] = {}
    for q, ssim in points:
        merged[q] = min(ssim, merged.get(q, ssim))
    ordered = sorted(merged.items())
    capped, ceiling = [], math.inf
    for q, ssim in reversed(ordered):
        ceiling = min(ceiling, ssim)
        capped.append((q, ceiling))
    return capped[::-1]


def _line(q0: float, s0: float, q1: float, s1: float, q: float) -> float:
    return min(1.0, s0 + (s1 - s0) * (q - q0) / (q1 - q0))


def _within(q: float, low: float, high: float) -> float:
    return min(high, max(low, q))


class Window(NamedTuple):
    start: float  # seconds from the clip's start
    length: float  # seconds


PROBE_COUNT = 3
# Ten frames at 30 fps: three windows at three settings then cost 90 frames of encoding (30 %
# of a 10 s clip's, 5 % of a minute's). Windows of 10 frames predicted a clip's SSIM as well as
# windows of 30 did (within about 0.001 on the benchmark's clips); more of them would help a
# long, varied clip more than longer ones.
WINDOW_S = 1 / 3
WINDOW_SPACING_S = 3.0  # a clip gets one window per this much of its length, up to ``count``
MIN_PROBE_S = 2.0  # below this a probe costs about as much as the encode: none
# A window starts this long after its keyframe: a seek then lands on that keyframe even if the
# reader that seeks counts time a little differently from the one that listed the keyframes.
KEYFRAME_LEAD_S = 0.01
# A window off a keyframe costs decoding everything since the keyframe before it; beyond this
# much, the window moves to the nearest keyframe instead (even out of its part of the clip).
MAX_LEAD_S = 1.5
# No window starts in a clip's first second: its first frames are unlike the rest (a camera
# settling its exposure, an encoder's rate control warming up). On the benchmark's phone-like
# clip a window at 0 s read 0.953 at a CRF where the clip as a whole reads 0.982.
EDGE_S = 1.0


def probe_windows(
    duration: float,
    keyframes: Sequence[float] | None = None,
    count: int = PROBE_COUNT,
    length_s: float = WINDOW_S,
    max_lead_s: float = MAX_LEAD_S,
) -> tuple[Window, ...]:
    """Where the probe's samples go: ``count`` windows of ``length_s`` spread over the clip,
    one in each of ``count`` equal parts, so that they see the whole clip (the first seconds
    alone mislead: they are often the easiest stretch).

    A window goes to the keyframe nearest its part's middle when the part has one, so that
    seeking to it decodes nothing it does not use. With sparse keyframes (x264's default puts
    one every 8 s) a part may have none: the window stays at the middle if the keyframe before
    it is at most ``max_lead_s`` away, and otherwise moves to the nearest keyframe anyway
    (decoding seconds of unused frames, 1080p ones at that, would cost more than the probe's
    own encoding); windows that then coincide count once. Unknown keyframes: the middles. No
    window starts in the first ``EDGE_S``, whose frames are unlike the rest.

    Shorter clips get fewer windows (one per ``WINDOW_SPACING_S``, at least one), and a clip
    under ``MIN_PROBE_S`` gets none: probing it at two or three settings would cost about as
    much as encoding it, so it is encoded at the preset's own setting and measured whole.
    """
    if duration < MIN_PROBE_S:
        return ()
    count = max(1, min(count, int(duration // WINDOW_SPACING_S)))
    length = min(length_s, duration / (2 * count))
    latest = duration - length - KEYFRAME_LEAD_S
    edge = min(EDGE_S, duration / 4)
    usable = [k for k in keyframes or () if edge <= k <= latest]
    part = duration / count
    starts = []
    for i in range(count):
        start = max(edge, (i + 0.5) * part - length / 2)
        inside = [k for k in usable if i * part <= k <= (i + 1) * part - length - KEYFRAME_LEAD_S]
        before = max((k for k in keyframes or () if k <= start), default=None)
        if inside:
            start = min(inside, key=lambda k: abs(k - start)) + KEYFRAME_LEAD_S
        elif usable and (before is None or start - before > max_lead_s):
            start = min(usable, key=lambda k: abs(k - start)) + KEYFRAME_LEAD_S
        starts.append(round(start, 3))
    windows: list[Window] = []
    for start in sorted(set(starts)):
        if not windows or start >= windows[-1].start + windows[-1].length:
            windows.append(Window(start, round(length, 3)))
    return tuple(windows)


def whole(duration: float) -> tuple[Window, ...]:
    """The whole clip as one window (what is measured when there was no probe)."""
    return (Window(0.0, round(duration, 3)),)


# ---------------------------------------------------------------- steering ----------------
#
# The probe predicts; the encode then measures. A bitrate-driven encoder's output is measured
# while it is made (each keyframe interval's mean SSIM, sampled as the gate samples it), and
# each interval's bitrate is steered from the last one measured so that the clip's mean lands
# just above the gate instead of where the probe's prediction, cautious by PROBE_READS_HIGH
# and its own error, put it. On the benchmark's phone-like clip the probe's choice read 0.977
# where the gate asks 0.973: steered, it read 0.974 in 13 % fewer bytes.
STEER_MARGIN = 0.0015  # the goal: the gate plus this (sampling's own noise over a clip)
# What the rest of the clip aims at may differ from the goal by at most this, to make up for
# the intervals measured so far (the first ones, the rate control settling, read low).
STEER_SWING = 0.004
STEER_STEP = 1.5  # an interval's bitrate is at most this factor from the one measured
STEER_DEADBAND = 0.04  # smaller changes are not made (each change restarts the rate control)
# SSIM per unit of ln(bitrate): the probe's samples give it, within these bounds; without them,
# the prior. Measured on the benchmark's clips: about 0.008 (clean) to 0.02 (noisy 1080p).
SLOPE_BOUNDS = (0.004, 0.03)
PRIOR_SLOPE = 0.012


class Aim(msgspec.Struct, frozen=True):
    """Where the steered encode aims: ``goal`` (mean SSIM), the slope of SSIM in ln(bitrate),
    and the bitrates it may use."""

    goal: float
    slope: float
    lowest: int
    highest: int


def sampled_slope(samples: Sequence[Sample]) -> float:
    """SSIM per unit of ln(bitrate) through a probe's (bitrate, SSIM) samples (least squares,
    once made monotone), within SLOPE_BOUNDS; PRIOR_SLOPE without two distinct samples."""
    points = _monotone([(math.log(rate), ssim) for rate, ssim in samples if rate > 0])
    if len(points) < 2:
        return PRIOR_SLOPE
    mean_q = sum(q for q, _ in points) / len(points)
    mean_s = sum(s for _, s in points) / len(points)
    spread = sum((q - mean_q) ** 2 for q, _ in points)
    slope = sum((q - mean_q) * (s - mean_s) for q, s in points) / spread
    return min(SLOPE_BOUNDS[1], max(SLOPE_BOUNDS[0], slope))


def steered_bitrate(aim: Aim, bitrate: int, measured: float, mean: float, done: float) -> int:
    """The bitrate for the next keyframe interval, from the last one measured: it was encoded
    at ``bitrate`` and read ``measured``; the clip so far reads ``mean`` over the share
    ``done`` (0..1) of what will be measured. The rest of the clip aims at what brings the
    whole to the goal (within STEER_SWING of it); the step assumes SSIM linear in
    ln(bitrate) with the aim's slope. Returns ``bitrate`` itself for a change under
    STEER_DEADBAND."""
    rest = max(1e-3, 1.0 - done)
    target = aim.goal + (aim.goal - mean) * min(done, 1.0) / rest
    target = min(aim.goal + STEER_SWING, max(aim.goal - STEER_SWING, target))
    wanted = bitrate * math.exp((target - measured) / aim.slope)
    wanted = min(bitrate * STEER_STEP, max(bitrate / STEER_STEP, wanted))
    wanted = min(aim.highest, max(aim.lowest, wanted))
    return bitrate if abs(wanted / bitrate - 1) < STEER_DEADBAND else math.ceil(wanted)
