"""ffmpeg and ffprobe command lines: H.264 + AAC in a streamable MP4, metadata stripped."""

from __future__ import annotations

from client.core.planner import Plan
from client.core.presets import PRESETS

INPUT_DIR = "/input"
INPUT_PATH = f"{INPUT_DIR}/source"  # never the user's file name: it may name a patient
OUTPUT_PATH = "/output.mp4"
PROBE_PATH = "/probe.json"
PROBE_ENTRIES = (
    "stream=codec_type,codec_name,width,height,avg_frame_rate:stream_side_data=rotation"
    ":format=duration,format_name"
)


def ffmpeg_args(plan: Plan) -> list[str]:
    if plan.action != "compress" or plan.preset is None:
        raise ValueError("only a compress plan has ffmpeg arguments")
    preset = PRESETS[plan.preset]
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
        "-vf", f"scale={plan.width}:{plan.height}:flags=bicubic,format=yuv420p",
        "-c:v", "libx264", "-preset", preset.x264_preset, "-crf", str(preset.crf),
        "-profile:v", "high",
        "-c:a", "aac", "-b:a", f"{preset.audio_bitrate_k}k",
        # Drop container and stream metadata (titles, comments, locations, device serials)
        # and chapters: nothing that could identify a patient or a place.
        "-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-threads", threads,
        OUTPUT_PATH,
    ]


def ffprobe_args() -> list[str]:
    """ffprobe command that writes stream facts, rotation and duration as JSON to
    ``PROBE_PATH`` (read by ``media.media_from_ffprobe``)."""
    return [
        "-v", "error",
        "-show_entries", PROBE_ENTRIES,
        "-of", "json", "-o", PROBE_PATH, INPUT_PATH,
    ]
