"""Read ffmpeg's progress lines (``... time=00:01:02.50 ...``)."""

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
