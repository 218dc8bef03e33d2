"""Progress as the page shows it: a state, a percent, and speed/ETA while compressing."""

from __future__ import annotations

from typing import Literal

import msgspec

State = Literal["loading", "ready", "compressing", "uploading", "done", "bypassed", "error"]


class Status(msgspec.Struct, frozen=True):
    state: State
    message: str = ""
    percent: float | None = None  # None: no progress to show
    upload_url: str | None = None
    poster_url: str | None = None


def percent_of(done: float, total: float) -> float:
    """0-100, clamped; 0 when the total is unknown."""
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * done / total))


class Rate(msgspec.Struct, frozen=True):
    percent: float
    speed: float  # seconds of media per second of wall time
    eta_s: float | None


def encode_rate(encoded_s: float, duration_s: float, elapsed_s: float) -> Rate:
    """Percent, speed (× real time) and seconds left, from media time encoded so far."""
    percent = percent_of(encoded_s, duration_s)
    speed = encoded_s / elapsed_s if elapsed_s > 0 else 0.0
    eta = (duration_s - encoded_s) / speed if speed > 0 else None
    return Rate(percent=percent, speed=speed, eta_s=None if eta is None else max(0.0, eta))
