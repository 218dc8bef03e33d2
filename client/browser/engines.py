"""Probing and compression adapters over the JS glue (ports in ``client.core.ports``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from client.browser.bridge import JsFailure, callbacks, glue, js_object, settled
from client.core.ffmpeg_args import INPUT_DIR, OUTPUT_PATH, PROBE_PATH, ffmpeg_args, ffprobe_args
from client.core.ffmpeg_log import encoded_seconds
from client.core.media import MediaInfo, media_from_ffprobe
from client.core.planner import Plan
from client.core.ports import Encoded, TranscodeFailed


class Prober:
    """First the browser's own demuxer (fast: it reads only the header); for what the
    browser cannot play (HEVC from phones, odd containers) ffprobe in ffmpeg.wasm."""

    def __init__(self, multi_thread: bool) -> None:
        self.multi_thread = multi_thread

    async def probe(self, file: Any) -> MediaInfo | None:
        try:
            found = await settled(glue.probeVideo(file))
            if found is not None:
                return MediaInfo(width=int(found.width), height=int(found.height),
                                 duration=float(found.duration))
            options = js_object({"args": ffprobe_args(), "inputDir": INPUT_DIR,
                                 "outputPath": PROBE_PATH, "multiThread": self.multi_thread})
            data = await settled(glue.ffprobe(file, options))
        except JsFailure:
            return None
        return None if data is None else media_from_ffprobe(data.to_py())


class FfmpegWasmTranscoder:
    """ffmpeg.wasm in its own Web Worker: threaded core when cross-origin isolated."""

    async def run(self, file: Any, plan: Plan, on_progress: Callable[[float], None]) -> Encoded:
        def on_log(line: str) -> None:
            seconds = encoded_seconds(line)
            if seconds is not None:
                on_progress(seconds)

        with callbacks(on_log) as (log_proxy,):
            options = js_object({
                "args": ffmpeg_args(plan),
                "inputDir": INPUT_DIR,
                "outputPath": OUTPUT_PATH,
                "multiThread": plan.engine == "ffmpeg-mt",
            })
            options.onLog = log_proxy
            try:
                blob = await settled(glue.transcode(file, options))
            except JsFailure as failure:
                raise TranscodeFailed(failure.code) from None
        return Encoded(blob=blob, size=int(blob.size))

    def cancel(self) -> None:
        glue.cancelAll()
