"""E2e set-up: the real medpress server on a free loopback port, Debian Chromium
driven by Playwright, and a guard that fails any test whose page reaches beyond
127.0.0.1. Every fixture and helper comes from the QA kit (tests/e2e/kit/)."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest

from tests.conftest import run_ffmpeg
from tests.e2e.kit.plugin import (
    DEFAULT_FLAGS,
    app_page,
    battery,
    browser_type_launch_args,
    detached_chromium,
    medpress_server,
    open_app,
    outside_requests,
    put_flags,
)
from tests.e2e.kit.server import (
    LOAD_TIMEOUT_MS,
    LOOPBACK,
    ROOT,
    STATE_RECORDER,
    Server,
    stored_uploads,
    upload_metadata,
)

__all__ = [
    "LOAD_TIMEOUT_MS",
    "LOOPBACK",
    "ROOT",
    "STATE_RECORDER",
    "STREAMED",
    "Server",
    "app_page",
    "battery",
    "browser_type_launch_args",
    "detached_chromium",
    "medpress_server",
    "open_app",
    "outside_requests",
    "put_flags",
    "server",
    "stored_uploads",
    "upload_metadata",
    "whole_file",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


# What the page logs once a streamed output is made (public: webcodecs-engine.js), to compare
# with what arrived.
STREAMED = re.compile(r"medpress stream: (\d+) pieces, (\d+) bytes, sha256 ([0-9a-f]{64})")


@pytest.fixture
def whole_file(put_flags) -> None:
    """The flag ``upload.streaming`` off: a clip is uploaded once compressed whole."""
    state = copy.deepcopy(DEFAULT_FLAGS)
    next(f for f in state["features"] if f["name"] == "upload.streaming")["enabled"] = False
    put_flags(state)


@pytest.fixture(scope="session")
def server(medpress_server: Server) -> Server:
    """The real medpress server (the kit's ``medpress_server``, under its usual name here)."""
    return medpress_server


@pytest.fixture(scope="session")
def series(media_dir: Path) -> list[Path]:
    """Three different 3 s 720p clips (about 1.9 MB each), as a phone records a procedure."""
    clips = []
    for number, tone in enumerate((220, 440, 660), start=1):
        path = media_dir / f"series-{number}.mp4"
        run_ffmpeg(
            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
            "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000",
            "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-crf", "16",
            "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
        )
        clips.append(path)
    return clips


def make_clip(path: Path, seconds: int, noise: int) -> Path:
    """1920x1080 30 fps test pattern (with temporal noise of strength `noise`), a keyframe
    every second as phones write them, tagged BT.709 TV range."""
    source = "testsrc2=size=1920x1080:rate=30" + (f",noise=alls={noise}:allf=t" if noise else "")
    run_ffmpeg(
        "-f", "lavfi", "-i", source, "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
        "-g", "30", "-b:v", "20M", "-maxrate", "24M", "-bufsize", "48M", "-pix_fmt", "yuv420p",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
        str(path),
    )
    return path


@pytest.fixture(scope="session")
def easy1080(media_dir: Path) -> Path:
    """4 s of clean test pattern: easy to compress."""
    return make_clip(media_dir / "easy1080.mp4", 4, 0)


@pytest.fixture(scope="session")
def hard1080(media_dir: Path) -> Path:
    """10 s of test pattern under heavy temporal noise (about 25 MB): hard to compress."""
    return make_clip(media_dir / "hard1080.mp4", 10, 30)
