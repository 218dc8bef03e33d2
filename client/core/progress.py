"""Progress as the page shows it: a stage and a percent."""

from __future__ import annotations

from typing import Literal

import msgspec

State = Literal["loading", "ready", "compressing", "uploading", "done", "bypassed", "error"]


class Status(msgspec.Struct, frozen=True):
    state: State
    message: str = ""
    percent: float | None = None  # None: no progress to show
    upload_url: str | None = None


def percent_of(done: float, total: float) -> float:
    """0-100, clamped; 0 when the total is unknown."""
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * done / total))
