"""ffmpeg and ffprobe command lines: H.264 + AAC in a streamable MP4, metadata stripped;
and the x264 rate probe's: short windows of the clip encoded at a few CRFs, their SSIM
measured against the same source frames, and the output's SSIM measured on those windows.

Every command runs with the same thread settings (the threaded core crashes on x264's default
thread count unless ``-threads`` is given before each input and each output) and scales the
source exactly as the encode does, so what the probe measures is what the encode makes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from client.core.planner import Plan
from client.core.presets import KEY_INTERVAL_S, PRESETS, Preset
from client.core.rate import Window

INPUT_DIR = "/input"
INPUT_PATH = f"{INPUT_DIR}/source"  # never the user's file name: it may name a patient
OUTPUT_PATH = "/output.mp4"
PROBE_PATH = "/probe.json"
PROBE_ENTRIES = (
    "stream=codec_type,codec_name,width,height,avg_frame_rate:stream_side_data=rotation"
    ":format=duration,format_name"
)


def ffmpeg_args(plan: Plan, crf: float | None = None) -> list[str]:
    """The encode, at ``crf`` (the probe's choice) or else the plan's (the preset's)."""
    preset = _preset(plan)
    threads = str(plan.threads)
    return [
        "-hide_banner", "-nostdin", "-y",
        # The threaded core crashes on x264's default thread count: set it both for the
        # input (decoding) and for the output (encoding).
        "-threads", threads,
        "-filter_threads", threads,  # scaling runs beside decoding and encoding
        "-i", INPUT_PATH,
        "-map", "0:v:0", "-map", "0:a:0?",
        # ffmpeg applies the source rotation to the pixels (autorotate), so the output
        # needs no rotation tag; the size is the display size the planner chose.
        "-vf", scaled(plan),
        *x264(plan, _crf(plan, crf)),
        "-c:a", "aac", "-b:a", f"{preset.audio_bitrate_k}k",
        # Drop container and stream metadata (titles, comments, locations, device serials)
        # and chapters: nothing that could identify a patient or a place.
        "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-threads", threads,
        OUTPUT_PATH,
    ]


# The placeholders of a segment's run, filled in by the engine for each run
# (ffmpeg-segments.js): where to begin (source seconds, exact: the midpoint between the run's
# first frame and the frame before it) and how many frames to encode from there.
SEEK, FRAMES = "{seek}", "{frames}"
SEGMENT_PATH = "/segment.mp4"


def segment_args(plan: Plan, crf: float | None = None) -> list[str]:
    """One run of a clip encoded in segments (``client.core.segments``): its frames only, as
    the whole-file encode makes them (same scaling and x264 settings), starting with a
    keyframe and with one every ``KEY_INTERVAL_S`` (the muxer closes a fragment when the next
    keyframe comes, so a run's fragments but its last leave as soon as the run ends), without
    B-frames; video only (the source's audio is copied beside it), every frame kept as it comes."""
    threads = str(plan.threads)
    return [
        *_head(threads),
        # The seek is in the source's own timestamps (not offset by its start time), which are
        # what the engine reads its frames' times from.
        "-seek_timestamp", "1", "-ss", SEEK, "-i", INPUT_PATH,
        "-map", "0:v:0", "-vf", scaled(plan), "-frames:v", FRAMES,
        *x264(plan, _crf(plan, crf)),
        # No B-frames: the fragments would need negative composition offsets, which players
        # read differently without an edit list (ffmpeg shows such a file two frames late).
        # 9-24 % more bits at the same CRF (the more noise, the more), for a little more SSIM.
        "-bf", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{KEY_INTERVAL_S:g})",
        "-an", *_AS_IS, "-map_metadata:s", "-1", "-map_chapters", "-1",
        "-threads", threads, "-f", "mp4", SEGMENT_PATH,
    ]


def resumed_crf(kept: dict[str, Any] | None, plan: Plan) -> float | None:
    """The CRF to go on at when ``kept`` (the plan an earlier run of this clip stored with its
    fragments: one run's arguments, ``args``) was made for this same job, at some CRF: its rate
    probe is then not run again, and the engine goes on after the last fragment; None: probe
    and start over."""
    args = str((kept or {}).get("args", "")).split(" ")
    try:
        crf = float(args[args.index("-crf") + 1])
    except (ValueError, IndexError):
        return None
    return crf if args == segment_args(plan, crf) else None


def ffprobe_args() -> list[str]:
    """ffprobe command that writes stream facts, rotation and duration as JSON to
    ``PROBE_PATH`` (read by ``media.media_from_ffprobe``)."""
    return [
        "-v", "error",
        "-show_entries", PROBE_ENTRIES,
        "-of", "json", "-o", PROBE_PATH, INPUT_PATH,
    ]


def _preset(plan: Plan) -> Preset:
    if plan.action != "compress" or plan.preset is None:
        raise ValueError("only a compress plan has ffmpeg arguments")
    return PRESETS[plan.preset]


def _crf(plan: Plan, crf: float | None) -> float:
    """``crf`` (the probe's choice), else the plan's, else the preset's."""
    return crf if crf is not None else plan.crf if plan.crf is not None else _preset(plan).crf


def scaled(plan: Plan) -> str:
    """The one scaling every command applies to the source (display size, bicubic)."""
    return f"scale={plan.width}:{plan.height}:flags=bicubic,format=yuv420p"


def x264(plan: Plan, crf: float) -> list[str]:
    return ["-c:v", "libx264", "-preset", _preset(plan).x264_preset, "-crf", f"{crf:g}", "-profile:v", "high"]


def probe_path(index: int) -> str:
    return f"/probe-{index}.mp4"


# The probe's source frames, decoded and scaled once, kept raw for both measurements (the
# probe's and the output's), so that the source windows are decoded once, not three times: a
# window off a keyframe costs decoding everything since the one before it. Kept only while
# small (30 frames of 720p: 41 MB); beyond that each measurement decodes the source again.
REFERENCE_PATH = "/probe-reference.nut"
REFERENCE_MAX_BYTES = 100_000_000


def keeps_reference(plan: Plan, windows: Sequence[Window]) -> bool:
    frames = math.ceil(sum(w.length for w in windows) * (plan.fps or 30.0)) + len(windows)
    return plan.width * plan.height * 3 // 2 * frames <= REFERENCE_MAX_BYTES


def probe_encode_args(plan: Plan, windows: Sequence[Window], crfs: Sequence[float]) -> list[str]:
    """One execution: the windows cut from the source (one seeking input each), joined,
    scaled as the encode scales, and encoded at each CRF into ``probe_path(i)`` (video only,
    every frame kept as it comes); and, if ``keeps_reference``, the same frames raw."""
    threads = str(plan.threads)
    count = len(crfs)
    reference = keeps_reference(plan, windows)
    labels = [f"[p{i}]" for i in range(count)] + (["[ref]"] if reference else [])
    graph = f"{_joined(0, len(windows))},{scaled(plan)},split={len(labels)}{''.join(labels)}"
    args = [*_head(threads), *_window_inputs(INPUT_PATH, windows, threads), "-filter_complex", graph]
    for i, crf in enumerate(crfs):
        args += ["-map", f"[p{i}]", "-an", *x264(plan, crf), *_AS_IS, "-threads", threads, "-f", "mp4",
                 probe_path(i)]
    if reference:
        args += ["-map", "[ref]", "-c:v", "rawvideo", *_AS_IS, "-threads", threads, "-f", "nut", REFERENCE_PATH]
    return args


def probe_measure_args(plan: Plan, windows: Sequence[Window], count: int) -> list[str]:
    """One execution: each probe output's SSIM against the same source frames (the reference
    kept by ``probe_encode_args``, or the windows cut and scaled again). ffmpeg logs one
    ``SSIM Y:… All:…`` line per output (``ffmpeg_log.ssim_scores``)."""
    threads = str(plan.threads)
    inputs = [arg for i in range(count) for arg in ("-threads", threads, "-i", probe_path(i))]
    inputs += _reference_inputs(plan, windows, threads, kept=True)
    splits = "".join(f"[r{i}]" for i in range(count))
    reference = f"{_reference(plan, windows, first=count, kept=True)},{_FRAME_CLOCK},split={count}{splits}"
    graph = ";".join([reference, *(f"[{i}:v:0]{_FRAME_CLOCK}[d{i}];[d{i}][r{i}]{_SSIM.format(i)}[s{i}]"
                                   for i in range(count))])
    return [*_head(threads), *inputs, "-filter_complex", graph, *_null_outputs(count, threads)]


def check_args(plan: Plan, windows: Sequence[Window], probed: bool) -> list[str]:
    """One execution: the encode's output measured on ``windows`` against the source frames
    (the probe's reference when ``probed`` and kept, else the source cut and scaled again);
    one ``SSIM Y:… All:…`` line."""
    threads = str(plan.threads)
    count = len(windows)
    inputs = [*_window_inputs(OUTPUT_PATH, windows, threads),
              *_reference_inputs(plan, windows, threads, kept=probed)]
    graph = (f"{_joined(0, count)},{_FRAME_CLOCK}[d];"
             f"{_reference(plan, windows, first=count, kept=probed)},{_FRAME_CLOCK}[r];"
             f"[d][r]{_SSIM.format(0)}[s0]")
    return [*_head(threads), *inputs, "-filter_complex", graph, *_null_outputs(1, threads)]


CHECK_READS = (OUTPUT_PATH, REFERENCE_PATH)  # the files check_args reads (the source aside)


def _reference_inputs(plan: Plan, windows: Sequence[Window], threads: str, kept: bool) -> list[str]:
    if kept and keeps_reference(plan, windows):
        return ["-threads", threads, "-i", REFERENCE_PATH]
    return _window_inputs(INPUT_PATH, windows, threads)


def _reference(plan: Plan, windows: Sequence[Window], first: int, kept: bool) -> str:
    """The filter chain that makes the source frames, scaled, from the inputs above."""
    if kept and keeps_reference(plan, windows):
        return f"[{first}:v:0]null"
    return f"{_joined(first, len(windows))},{scaled(plan)}"


_AS_IS = ["-fps_mode", "passthrough", "-map_metadata", "-1"]  # every frame, nothing else


# Both sides of a comparison are timed by frame number, so that frames pair up one to one
# whatever their containers' timestamps; the comparison stops with the shorter side.
_FRAME_CLOCK = "settb=AVTB,setpts=N/30/TB"
_SSIM = "ssim@s{}=shortest=1"  # named: ffmpeg logs the results in no useful order


def _head(threads: str) -> list[str]:
    return ["-hide_banner", "-nostdin", "-y", "-threads", threads, "-filter_threads", threads]


def _window_inputs(path: str, windows: Sequence[Window], threads: str) -> list[str]:
    """One input per window, seeking to it (a window of no length: to the end). Windows are in
    the files' own timestamps (``-seek_timestamp``), not offset by their start times: a streamed
    output starts with its copied audio's priming (about -0.02 s), its source at 0."""
    return [arg for w in windows
            for arg in ("-threads", threads, "-seek_timestamp", "1", "-ss", f"{w.start:.3f}",
                        *(("-t", f"{w.length:.3f}") if w.length > 0 else ()), "-i", path)]


def _joined(first: int, count: int) -> str:
    """The video of inputs ``first`` … ``first + count - 1`` one after the other."""
    return "".join(f"[{first + i}:v:0]" for i in range(count)) + f"concat=n={count}:v=1:a=0"


def _null_outputs(count: int, threads: str) -> list[str]:
    return [arg for i in range(count) for arg in ("-map", f"[s{i}]", "-threads", threads, "-f", "null", "-")]
