"""Probing and compression adapters over the JS glue (ports in ``client.core.ports``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec

from client.browser.bridge import JsFailure, absent, callbacks, glue, js_object, settled
from client.core.ffmpeg_args import (
    CHECK_READS,
    FRAMES,
    INPUT_DIR,
    OUTPUT_PATH,
    PROBE_PATH,
    SEEK,
    SEGMENT_PATH,
    check_args,
    ffmpeg_args,
    ffprobe_args,
    probe_encode_args,
    probe_measure_args,
    probe_path,
    resumed_crf,
    segment_args,
)
from client.core.ffmpeg_log import encoded_seconds, ssim_scores
from client.core.media import MediaInfo, media_from_ffprobe
from client.core.planner import (
    Plan,
    choose_bitrate,
    choose_crf,
    out_of_reach,
    probe_bitrates,
    probe_crfs,
    steer_aim,
)
from client.core.ports import Encoded, Stream, TranscodeFailed
from client.core.presets import KEY_INTERVAL_S, PRESETS
from client.core.rate import Choice, steered_bitrate, whole
from client.core.segments import streams_in_segments
from client.core.webcodecs import resumed_bitrate, webcodecs_config


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
                    browser_decodes=bool(found.canDecode), browser_reads=True,
                    keyframes=None if absent(found.keyframes) else tuple(found.keyframes.to_py()),
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

    def streams(self, engine: str, media: MediaInfo | None = None) -> bool:
        return engine == "webcodecs" or media is None or streams_in_segments(media)

    async def run(
        self, file: Any, plan: Plan, engine: str, on_progress: Callable[[float], None],
        stream: Stream | None = None,
    ) -> Encoded:
        try:
            if engine == "webcodecs":
                return await self._webcodecs(file, plan, on_progress, stream)
            return await self._ffmpeg(file, plan, engine == "ffmpeg-mt", on_progress, stream)
        except asyncio.CancelledError:
            self.cancel()  # stop the worker before its callbacks go away
            raise

    async def _webcodecs(
        self, file: Any, plan: Plan, on_progress: Callable[[float], None], stream: Stream | None
    ) -> Encoded:
        """Probe the clip at a few bitrates, encode at the least one predicted to clear the
        floor, steer the bitrate of each keyframe interval from what the output measures
        (``rate.steered_bitrate``), and give up within the first seconds if the output clearly
        cannot. With ``stream``, each fragment of the output is sent as soon as it is made."""
        stall_ms = int(plan.stall_s * 1000)
        # The floor itself, not the gate: an output's first seconds can read below the whole
        # (its rate control settling), and a false abandon hands the clip to an engine 4-5
        # times slower, where a missed one costs only the rest of this encode.
        floor = PRESETS[plan.preset].min_ssim if plan.preset is not None else None
        # An output this job began before a pause or a reload goes on at its own bitrate.
        kept = resumed_bitrate(await stream.kept(), plan, floor) if stream is not None else None
        bitrate, probe_s, samples = kept, None, []
        if bitrate is None:
            chosen, probe_s, samples = await self._webcodecs_rate(file, plan, stall_ms)
            if out_of_reach(plan, chosen):
                raise TranscodeFailed("webcodecs:below-floor")
            bitrate = int(chosen.setting)
        encode_plan = msgspec.structs.replace(plan, video_bitrate=bitrate)
        config = webcodecs_config(encode_plan)
        if floor is not None:
            config["abandonBelow"] = floor
        aim = steer_aim(plan, samples) if plan.preset is not None else None

        def steer(rate: int, measured: float, mean: float, done: float) -> int:
            """A measured interval → the next one's bitrate."""
            return steered_bitrate(aim, int(rate), float(measured), float(mean), float(done)) if aim else int(rate)

        with callbacks(on_progress, steer) as (time_proxy, steer_proxy):
            options = js_object({"encoder": config, "stallMs": stall_ms})
            options.onTime = time_proxy
            options.steer = steer_proxy
            if stream is not None:
                options.stream = stream.handle
            try:
                result = await settled(glue.transcodeWebCodecs(file, options))
            except JsFailure as failure:
                raise TranscodeFailed(f"webcodecs:{failure.code}") from None
        ssim = None if absent(result.ssim) else float(result.ssim)
        rates = [] if absent(result.bitrates) else list(result.bitrates.to_py())
        mean_rate = round(sum(rates) / len(rates)) if rates else bitrate  # what the encoder was asked for
        return Encoded(blob=result.blob, size=int(result.blob.size), ssim=ssim, bitrate=mean_rate,
                       probe_s=probe_s, estimated=str(result.ssimMethod) == "canvas")

    async def _webcodecs_rate(
        self, file: Any, plan: Plan, stall_ms: int
    ) -> tuple[Choice, float | None, list[tuple[int, float | None]]]:
        """The bitrate to encode at, what choosing it cost (None: no probe) and the probe's
        (bitrate, SSIM) samples. A probe that cannot run here (no SSIM kernel, frames our scaler
        does not take) or fails leaves the plan's own bitrate: the output is measured either
        way."""
        bitrates = probe_bitrates(plan)
        if not bitrates:
            return choose_bitrate(plan, []), None, []
        options = js_object({
            # placed by the plan (rate.probe_windows, on the clip's keyframes): kept as they are
            "encoder": {**webcodecs_config(plan), "placedWindows": True}, "stallMs": stall_ms,
            "windows": [[w.start, w.length] for w in plan.webcodecs_windows], "bitrates": list(bitrates),
        })
        try:
            probed = await settled(glue.probeWebCodecs(file, options))
        except JsFailure:
            return choose_bitrate(plan, []), None, []
        samples = [(int(s.bitrate), None if absent(s.ssim) else float(s.ssim)) for s in probed.samples]
        return choose_bitrate(plan, samples), round(float(probed.seconds), 2), samples

    async def _ffmpeg(
        self, file: Any, plan: Plan, multi_thread: bool, on_progress: Callable[[float], None],
        stream: Stream | None,
    ) -> Encoded:
        """x264 at the highest CRF the probe predicts to clear the floor, then measured. With
        ``stream``, the clip is encoded in segments and each fragment of the output is sent
        as soon as it is made (``client.core.segments``)."""
        encode_args = ffmpeg_args if stream is None else segment_args

        def on_log(line: str, offset: float = 0.0) -> None:
            seconds = encoded_seconds(line)
            if seconds is not None:
                on_progress(offset + seconds)

        # An output this job began before a pause or a reload goes on at its own CRF.
        kept_crf = resumed_crf(await stream.kept(), plan) if stream is not None else None
        crfs = probe_crfs(plan) if kept_crf is None else ()
        chosen: list[Choice] = []

        def choose(lines: Any) -> Any:
            """The probe's SSIM lines (None: it failed) → the encode's arguments."""
            scores = ssim_scores(list(lines.to_py())) if not absent(lines) else {}
            chosen.append(choose_crf(plan, crfs, scores))
            return js_object(encode_args(plan, chosen[-1].setting))

        with callbacks(on_log, choose) as (log_proxy, choose_proxy):
            options = js_object({
                "args": encode_args(plan, kept_crf), "inputDir": INPUT_DIR, "outputPath": OUTPUT_PATH,
                "multiThread": multi_thread, "stallMs": int(plan.stall_s * 1000),
                # measured on the probe's windows, or whole when the clip was too short to probe
                "check": {
                    "args": check_args(plan, plan.windows or whole(plan.duration), probed=bool(crfs)),
                    "files": list(CHECK_READS),
                },
            })
            if stream is not None:
                options.segments = js_object({
                    "seek": SEEK, "frames": FRAMES, "path": SEGMENT_PATH, "keyIntervalS": KEY_INTERVAL_S,
                    "bounds": list(plan.segments),
                })
                options.stream = stream.handle
            if crfs:
                options.probe = js_object({
                    "encode": probe_encode_args(plan, plan.windows, crfs),
                    "measure": probe_measure_args(plan, plan.windows, len(crfs)),
                    "outputs": [probe_path(i) for i in range(len(crfs))],
                })
                options.choose = choose_proxy
            options.onLog = log_proxy
            try:
                result = await settled(glue.transcodeFfmpeg(file, options))
            except JsFailure as failure:
                engine = "ffmpeg-mt" if multi_thread else "ffmpeg"
                raise TranscodeFailed(f"{engine}:{failure.code}") from None
        measured = ssim_scores(list(result.measured.to_py())) if not absent(result.measured) else {}
        # no probe: the kept output's CRF, or the plan's (the preset's)
        crf = chosen[-1].setting if chosen else kept_crf if kept_crf is not None else plan.crf
        probe_s = None if absent(result.probeSeconds) else round(float(result.probeSeconds), 2)
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
        if engine == "webcodecs":
            glue.prepareWebCodecs()
        else:
            glue.releaseSpares()

    def cancel(self) -> None:
        glue.cancelAll()
