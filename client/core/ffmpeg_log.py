"""Read ffmpeg's log: progress lines (``... time=00:01:02.50 ...``) and SSIM results."""

from __future__ import annotations

import re

_TIME = re.compile(r"time=\s*(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


def encoded_seconds(line: str) -> float | None:
    """Seconds of output written so far, or None if the line carries no usable time."""
    match = _TIME.search(line)
    if not match or match.group(1):
        return None
    hours, minutes, seconds = int(match.group(2)), int(match.group(3)), float(match.group(4))
    return hours * 3600 + minutes * 60 + seconds


# "[ssim@s2 @ 0x5612…] SSIM Y:0.984854 (18.196912) U:… V:… All:0.987433 (19.007812)": the
# line each measuring filter logs at its end (client.core.ffmpeg_args names them s0, s1, …).
_SSIM = re.compile(r"\[ssim@s(\d+) @ [^\]]*\] SSIM Y:[0-9.]+ .*All:([0-9.]+)")


def ssim_scores(lines: list[str] | str) -> dict[int, float]:
    """Each named SSIM filter's overall score (``All``: luma and chroma, as the floors are
    judged by ``bench/compress.py``), by the filter's number."""
    text = lines if isinstance(lines, str) else "\n".join(lines)
    return {int(number): float(score) for number, score in _SSIM.findall(text)}
