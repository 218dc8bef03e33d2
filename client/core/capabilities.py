"""What the browser can do, as plain data the planner consumes."""

from __future__ import annotations

import msgspec


class Capabilities(msgspec.Struct, frozen=True):
    cross_origin_isolated: bool  # SharedArrayBuffer, so the threaded ffmpeg.wasm core can run
    cores: int = 1

    @property
    def ffmpeg_threads(self) -> int:
        """Threads for ffmpeg.wasm: the threaded core needs an explicit count to stay stable."""
        return max(1, min(self.cores, 4)) if self.cross_origin_isolated else 1
