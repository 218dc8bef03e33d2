"""What the browser can do, as plain data the planner consumes."""

from __future__ import annotations

from urllib.parse import parse_qs

import msgspec

ENGINE_CHOICES = ("webcodecs", "ffmpeg-mt", "ffmpeg")


class Capabilities(msgspec.Struct, frozen=True):
    cross_origin_isolated: bool  # SharedArrayBuffer, so the threaded ffmpeg.wasm core can run
    cores: int = 1
    device_memory_gb: float = 0.0  # 0: the browser does not say
    webcodecs: bool = False  # VideoEncoder exists (a given config is checked separately)
    forced_engine: str | None = None  # QA/support override: ?engine=webcodecs|ffmpeg-mt|ffmpeg

    @property
    def ffmpeg_threads(self) -> int:
        """Threads for ffmpeg.wasm: the threaded core needs an explicit count to stay stable."""
        return max(1, min(self.cores, 4)) if self.cross_origin_isolated else 1


class Overrides(msgspec.Struct, frozen=True):
    """Support and QA knobs from the page URL: ``?engine=ffmpeg-mt&stall=5``."""

    engine: str | None = None
    stall_s: float | None = None


def overrides_from_query(query: str) -> Overrides:
    params = parse_qs(query.lstrip("?"))
    engine = (params.get("engine") or [None])[0]
    try:
        stall = float((params.get("stall") or ["nan"])[0])
    except ValueError:
        stall = float("nan")
    return Overrides(
        engine=engine if engine in ENGINE_CHOICES else None,
        stall_s=stall if 0 < stall < 3600 else None,  # NaN fails both comparisons
    )
