"""Facts about a media file from Debian's ffprobe/ffmpeg, for test assertions."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path


def probe(path: Path) -> dict:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def video_stream(info: dict) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == "video")


def ssim(output: Path, source: Path) -> float:
    """Mean SSIM of ``output`` against ``source`` scaled to the output's size."""
    return ssim_planes(output, source)["All"]


def ssim_planes(output: Path, source: Path) -> dict[str, float]:
    """ffmpeg's SSIM of ``output`` against ``source`` scaled to the output's size, per plane and
    over all of them (``"Y"``, ``"U"``, ``"V"``, ``"All"``: the floors mean All)."""
    stream = video_stream(probe(output))
    width, height = stream["width"], stream["height"]
    result = subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-i",
            str(output),
            "-i",
            str(source),
            "-lavfi",
            f"[1:v]scale={width}:{height}:flags=bicubic[ref];[0:v][ref]ssim",
            "-f",
            "null",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    found = dict(re.findall(r"\b(Y|U|V|All):([0-9.]+)", result.stderr.rpartition("SSIM ")[2]))
    assert "All" in found, result.stderr[-2000:]
    return {plane: float(value) for plane, value in found.items()}


def frame_count(path: Path) -> int:
    """The video frames ffprobe decodes in ``path`` (a fragmented MP4 declares no count)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return int(out.strip())
