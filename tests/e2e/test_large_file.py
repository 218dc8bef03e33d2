"""A video larger than 1 GB compresses without running out of memory: the file is read
lazily (mediabunny's BlobSource, ffmpeg's WORKERFS), never copied whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_ffmpeg
from tests.e2e.conftest import upload_metadata
from tests.e2e.test_compress_upload import compress_and_send

GB = 1024**3


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1.2 GB: 8 s of 4K with mild sensor-like noise, stored losslessly (made here,
    never committed). Scaled to 720p the noise averages out, as it does for a real camera."""
    path = tmp_path_factory.mktemp("big") / "big.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "8", "-vf", "noise=alls=3:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
        "-qp", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
    )
    assert path.stat().st_size > GB
    yield path
    path.unlink()


@pytest.mark.parametrize(("query", "engine"), [("", "webcodecs"), ("?engine=ffmpeg-mt", "ffmpeg-mt")])
def test_a_file_over_1_gb_compresses(open_app, query: str, engine: str, big_clip: Path):
    page = open_app(query)
    url, _ = compress_and_send(page, big_clip)
    meta = upload_metadata(page, url)
    assert (meta["compressed"], meta["engine"]) == ("1", engine), meta
    assert int(meta["original_size"]) == big_clip.stat().st_size
    size = int(page.request.head(url, headers={"Tus-Resumable": "1.0.0"}).headers["upload-length"])
    assert size < big_clip.stat().st_size / 20
