"""The ffmpeg command line for a plan: H.264 + AAC in a streamable MP4."""

from __future__ import annotations

from client.core.planner import Plan
from client.core.presets import PRESETS

INPUT_DIR = "/input"
INPUT_PATH = f"{INPUT_DIR}/source"  # never the user's file name: it may name a patient
OUTPUT_PATH = "/output.mp4"


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
        "-i", INPUT_PATH,
        "-map", "0:v:0", "-map", "0:a:0?",
        "-vf", f"scale={plan.width}:{plan.height}:flags=bicubic,format=yuv420p",
        "-c:v", "libx264", "-preset", preset.x264_preset, "-crf", str(preset.crf),
        "-profile:v", "high",
        "-c:a", "aac", "-b:a", f"{preset.audio_bitrate_k}k",
        # Drop container metadata (titles, comments, locations) and chapters.
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart",
        "-threads", threads,
        OUTPUT_PATH,
    ]


PROBE_PATH = "/probe.json"


def ffprobe_args() -> list[str]:
    """ffprobe command that writes the first video stream's size, rotation and the
    duration as JSON to ``PROBE_PATH`` (read by ``media.media_from_ffprobe``)."""
    return [
        "-v", "error", "-select_streams", "v:0",
        "-show_entries", "stream=width,height:stream_side_data=rotation:format=duration",
        "-of", "json", "-o", PROBE_PATH, INPUT_PATH,
    ]
