"""Interop: real third-party tus clients against a real medpress on loopback."""

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.medpress_process import MedpressProcess


@pytest.fixture(scope="module")
def medpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MedpressProcess]:
    server = MedpressProcess(tmp_path_factory.mktemp("interop") / "var")
    with server:
        yield server


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 MiB of seeded random bytes standing in for a video."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    path.write_bytes(random.Random(4).randbytes(20 * 1024 * 1024 + 123))
    return path
