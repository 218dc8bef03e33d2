"""Shared test set-up: media made by Debian's ffmpeg, once per session; a real PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import new_database, postgres_server


def run_ffmpeg(*args: str) -> None:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "Debian ffmpeg is required: run the README's set-up (make test does it)"
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip720(media_dir: Path) -> Path:
    """10 s of 1280x720 30 fps test pattern with a 440 Hz tone: H.264 + AAC in MP4."""
    path = media_dir / "clip720.mp4"
    run_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "10", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", str(path),
    )
    return path


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the whole session, started on first use (stopped at the end)."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def migrated_template(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database brought to the current schema by `medpress migrate` itself, to copy from."""
    template = new_database(postgres_dsn)
    data_dir = tmp_path_factory.mktemp("migrate")
    medpress = Path(sys.executable).parent / "medpress"
    migrated = subprocess.run(
        [str(medpress), "migrate", "--database-url", template, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    return template


@pytest.fixture
def database_url(postgres_dsn: str, migrated_template: str) -> str:
    """The DSN of a fresh database on the session's PostgreSQL, at the current schema."""
    return new_database(postgres_dsn, template=migrated_template)
