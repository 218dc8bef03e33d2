"""Probing and compression adapters over the JS glue (ports in ``client.core.ports``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from client.browser.bridge import JsFailure, callbacks, glue, js_object, settled
from client.core.ffmpeg_args import (
    CHECK_READS,
    INPUT_DIR,
    OUTPUT_PATH,
    PROBE_PATH,
    check_args,
    ffmpeg_args,
    ffprobe_args,
    probe_encode_args,
    probe_measure_args,
    probe_path,
)
from client.core.ffmpeg_log import encoded_seconds, ssim_scores
from client.core.media import MediaInfo, media_from_ffprobe
from client.core.planner import Plan, choose_crf, probe_crfs
from client.core.ports import Encoded, TranscodeFailed
from client.core.rate import Choice, whole
from client.core.webcodecs import webcodecs_config


class Prober:
    """mediabunny first (reads only the header and a few packets); for what it cannot
    read, ffprobe in ffmpeg.wasm."""

    def __init__(self, multi_thread: bool) -> None:
        self.multi_thread = multi_thread

    async def probe(self, file: Any) -> MediaInfo | None:
        try:
            found = await settled(glue.probeMedia(file))
            if found is not None:
                return MediaInfo(
                    width=int(found.width), height=int(found.height), duration=float(found.duration),
                    fps=float(found.fps) or 30.0, video_codec=str(found.videoCodec),
                    audio_codec=str(found.audioCodec), container=str(found.container),
                    browser_decodes=bool(found.canDecode),
                    keyframes=None if found.keyframes is None else tuple(found.keyframes.to_py()),
                )
            options = js_object({"args": ffprobe_args(), "inputDir": INPUT_DIR,
                                 "outputPath": PROBE_PATH, "multiThread": self.multi_thread})
            data = await settled(glue.ffprobe(file, options))
        except JsFailure:
            return None
        return None if data is None else media_from_ffprobe(data.to_py())


STRIP_STALL_MS = 15_000  # a remux makes progress steadily; one that stops is abandoned


class BrowserTranscoder:
    """Both engines behind one port: WebCodecs (worker + mediabunny) and ffmpeg.wasm
    (threaded core when cross-origin isolated)."""

    async def supports(self, plan: Plan, engine: str) -> bool:
        if engine != "webcodecs":
            return True
        config = webcodecs_config(plan)
        probe_config = {k: config[k] for k in ("codec", "width", "height", "bitrate", "framerate")}
        return bool(await glue.canEncode(js_object(probe_config)))

    async def run(
        self, file: Any, plan: Plan, engine: str, on_progress: Callable[[float], None]
    ) -> Encoded:
        def on_log(line: str) -> None:
            seconds = encoded_seconds(line)
            if seconds is not None:
                on_progress(seconds)

        crfs = probe_crfs(plan)
        chosen: list[Choice] = []

        def choose(lines: Any) -> Any:
            """The probe's SSIM lines (None: it failed) → the encode's arguments."""
            scores = ssim_scores(list(lines.to_py())) if lines is not None else {}
            chosen.append(choose_crf(plan, crfs, scores))
            return js_object(ffmpeg_args(plan, chosen[-1].setting))

        with callbacks(on_progress, on_log, choose) as (time_proxy, log_proxy, choose_proxy):
            stall_ms = int(plan.stall_s * 1000)
            if engine == "webcodecs":
                options = js_object({"encoder": webcodecs_config(plan), "stallMs": stall_ms})
                options.onTime = time_proxy
                call = glue.transcodeWebCodecs(file, options)
            else:
                options = js_object({
                    "args": ffmpeg_args(plan), "inputDir": INPUT_DIR, "outputPath": OUTPUT_PATH,
                    "multiThread": engine == "ffmpeg-mt", "stallMs": stall_ms,
                    # measured on the probe's windows, or whole when the clip was too short to probe
                    "check": {
                        "args": check_args(plan, plan.windows or whole(plan.duration), probed=bool(crfs)),
                        "files": list(CHECK_READS),
                    },
                })
                if crfs:
                    options.probe = js_object({
                        "encode": probe_encode_args(plan, plan.windows, crfs),
                        "measure": probe_measure_args(plan, plan.windows, len(crfs)),
                        "outputs": [probe_path(i) for i in range(len(crfs))],
                    })
                    options.choose = choose_proxy
                options.onLog = log_proxy
                call = glue.transcodeFfmpeg(file, options)
            try:
                result = await settled(call)
            except JsFailure as failure:
                raise TranscodeFailed(f"{engine}:{failure.code}") from None
            except asyncio.CancelledError:
                self.cancel()  # stop the worker before its callbacks go away
                raise
        if engine == "webcodecs":
            ssim = None if result.ssim is None else float(result.ssim)
            return Encoded(blob=result.blob, size=int(result.blob.size), ssim=ssim)
        measured = ssim_scores(list(result.measured.to_py())) if result.measured is not None else {}
        crf = chosen[-1].setting if chosen else plan.crf  # no probe: the plan's (preset's) CRF
        probe_s = None if result.probeSeconds is None else round(float(result.probeSeconds), 2)
        return Encoded(blob=result.blob, size=int(result.blob.size), ssim=measured.get(0), crf=crf,
                       probe_s=probe_s)

    async def strip(self, file: Any) -> Encoded:
        options = js_object({"stallMs": STRIP_STALL_MS})
        try:
            blob = await settled(glue.stripMetadata(file, options))
        except JsFailure as failure:
            raise TranscodeFailed(f"remux:{failure.code}") from None
        except asyncio.CancelledError:
            self.cancel()
            raise
        return Encoded(blob=blob, size=int(blob.size))

    def prepare(self, engine: str | None) -> None:
        if engine in ("ffmpeg", "ffmpeg-mt"):
            glue.prepareFfmpeg(engine == "ffmpeg-mt")
        else:
            glue.releaseFfmpeg()

    def cancel(self) -> None:
        glue.cancelAll()
