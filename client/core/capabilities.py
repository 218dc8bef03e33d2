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
    """Support and QA knobs from the page URL: ``?engine=ffmpeg-mt&stall=5&hidden_grace=10``."""

    engine: str | None = None
    stall_s: float | None = None
    hidden_grace_s: float | None = None  # how long a hidden page keeps compressing


def overrides_from_query(query: str) -> Overrides:
    params = parse_qs(query.lstrip("?"))
    engine = (params.get("engine") or [None])[0]
    return Overrides(
        engine=engine if engine in ENGINE_CHOICES else None,
        stall_s=_seconds(params, "stall"),
        hidden_grace_s=_seconds(params, "hidden_grace"),
    )


def _seconds(params: dict[str, list[str]], name: str) -> float | None:
    """A positive number of seconds under an hour, or None (absent or not a number)."""
    try:
        value = float((params.get(name) or ["nan"])[0])
    except ValueError:
        return None
    return value if 0 < value < 3600 else None  # NaN fails both comparisons
