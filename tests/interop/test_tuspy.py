"""tuspy (the Python tus client, PyPI ``tuspy``) uploading to medpress."""

import asyncio
import gc
import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus_client
from tusclient.storage.filestorage import FileStorage

from tests.support.medpress_process import MedpressProcess

MIB = 1024 * 1024

# tuspy leaves file handles to the garbage collector, and aiohttp warns about bytes bodies:
# their warnings, not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(autouse=True)
def collect_leaked_handles() -> Iterator[None]:
    """Close what tuspy leaked while this test's warning filters still apply."""
    yield
    gc.collect()


def _client(medpress: MedpressProcess, token: str) -> tus_client.TusClient:
    return tus_client.TusClient(
        f"{medpress.base_url}/files/", headers={"Authorization": f"Bearer {token}"}
    )


def _download_sha256(url: str, token: str) -> str:
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200
    return hashlib.sha256(response.content).hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_interrupt_then_resume_from_the_stored_url(
    medpress: MedpressProcess, clip: Path, tmp_path: Path
) -> None:
    token = medpress.token("tuspy")
    urls = FileStorage(str(tmp_path / "tus-urls.json"))
    try:
        first = _client(medpress, token).uploader(
            str(clip),
            chunk_size=4 * MIB,
            metadata={"filename": "clip.mp4", "filetype": "video/mp4"},
            store_url=True,
            url_storage=urls,
        )
        first.upload(stop_at=8 * MIB)  # the app is closed after two chunks
        assert first.offset == 8 * MIB
        stored_url = first.url

        resumed = _client(medpress, token).uploader(
            str(clip), chunk_size=4 * MIB, store_url=True, url_storage=urls
        )
        assert resumed.url == stored_url  # found through the file's fingerprint
        assert resumed.offset == 8 * MIB  # asked the server with HEAD
        resumed.upload()
    finally:
        urls.close()
    assert resumed.offset == clip.stat().st_size
    assert _download_sha256(stored_url, token) == _sha256(clip)


def test_upload_with_checksums(medpress: MedpressProcess, clip: Path) -> None:
    token = medpress.token("tuspy")
    uploader = _client(medpress, token).uploader(
        str(clip), chunk_size=6 * MIB, upload_checksum=True, metadata={"filetype": "video/mp4"}
    )
    uploader.upload()
    assert _download_sha256(uploader.url, token) == _sha256(clip)


def test_async_uploader(medpress: MedpressProcess, clip: Path) -> None:
    token = medpress.token("tuspy")
    uploader = _client(medpress, token).async_uploader(str(clip), chunk_size=8 * MIB)
    asyncio.run(uploader.upload())
    assert _download_sha256(uploader.url, token) == _sha256(clip)
