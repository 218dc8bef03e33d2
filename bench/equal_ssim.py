"""Native x264's size at a given SSIM, from a few encodes of one clip over a preset's CRF range:
what "output size ÷ x264's size at equal SSIM" in bench/compress.py divides by.

Pure functions (no ffmpeg here): ``ladder`` picks the CRFs, ``next_crf`` one more when an SSIM
lies beyond what they measured, ``size_at_ssim`` interpolates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

Point = tuple[float, float, int]  # (crf, ssim, size in bytes) of one native x264 encode


def ladder(crf_range: tuple[float, float], count: int = 7, nominal: float | None = None) -> list[float]:
    """``count`` CRFs evenly over ``crf_range`` (both ends included, rounded to 0.5), plus
    ``nominal`` (the preset's own CRF, which the native row measures anyway)."""
    low, high = crf_range
    steps = [low + (high - low) * i / (count - 1) for i in range(count)] if count > 1 else [low]
    crfs = {round(c * 2) / 2 for c in steps}
    if nominal is not None:
        crfs.add(float(nominal))
    return sorted(crfs)


def next_crf(
    points: Sequence[Point], ssim: float, step: float = 3.0, bounds: tuple[float, float] = (0, 51)
) -> float | None:
    """The CRF to measure next so that the points bracket ``ssim``: ``step`` past the worst CRF
    measured when ``ssim`` is below every SSIM, before the best when above; None when the points
    bracket it already, there are none, or x264's CRF ``bounds`` are reached."""
    span = ssim_span(points)
    if span is None or span[0] <= ssim <= span[1]:
        return None
    crfs = [p[0] for p in points]
    crf = max(crfs) + step if ssim < span[0] else min(crfs) - step
    crf = min(max(crf, bounds[0]), bounds[1])
    return None if crf in crfs else crf


def ssim_span(points: Sequence[Point]) -> tuple[float, float] | None:
    """(lowest, highest) SSIM measured, or None without points."""
    return (min(p[1] for p in points), max(p[1] for p in points)) if points else None


def size_at_ssim(points: Sequence[Point], ssim: float) -> float | None:
    """Native x264's output size at ``ssim``: linear in log(size) between the two encodes of
    neighbouring CRFs whose SSIMs bracket it (the first such pair from the best CRF on, should
    noise make SSIM over CRF not quite monotonic). None when ``ssim`` lies outside what was
    measured: no extrapolation."""
    ordered = sorted(points)
    for (_, s0, b0), (_, s1, b1) in pairwise(ordered):
        if min(s0, s1) <= ssim <= max(s0, s1):
            if s0 == s1:
                return math.sqrt(b0 * b1)
            frac = (ssim - s0) / (s1 - s0)
            return math.exp(math.log(b0) + frac * (math.log(b1) - math.log(b0)))
    if len(ordered) == 1 and ordered[0][1] == ssim:
        return float(ordered[0][2])
    return None


if __name__ == "__main__":  # a self-check: python bench/equal_ssim.py
    pts = [(14.0, 0.99, 8_000_000), (23.0, 0.98, 2_000_000), (32.0, 0.95, 500_000)]
    assert ladder((14.0, 32.0), 7) == [14.0, 17.0, 20.0, 23.0, 26.0, 29.0, 32.0]
    assert ladder((12.0, 30.0), 7, nominal=20) == [12.0, 15.0, 18.0, 20.0, 21.0, 24.0, 27.0, 30.0]
    assert abs(size_at_ssim(pts, 0.98) - 2_000_000) < 1
    assert abs(size_at_ssim(pts, 0.985) - 4_000_000) < 1  # geometric midpoint
    assert abs(size_at_ssim(pts, 0.965) - 1_000_000) < 1
    assert size_at_ssim(pts, 0.995) is None and size_at_ssim(pts, 0.94) is None
    assert size_at_ssim([], 0.98) is None and ssim_span([]) is None
    assert ssim_span(pts) == (0.95, 0.99)
    assert next_crf(pts, 0.96) is None and next_crf([], 0.9) is None
    assert next_crf(pts, 0.94) == 35.0 and next_crf(pts, 0.995) == 11.0
    assert next_crf([(50.0, 0.9, 1), (51.0, 0.89, 1)], 0.5) is None
    print("ok")
