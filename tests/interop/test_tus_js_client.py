"""tus-js-client 4.3.1 (the browser client's version) under Node, uploading to medpress."""

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.medpress_process import MedpressProcess

HERE = Path(__file__).parent
SCRIPT = HERE / "tus_js_upload.mjs"
MIB = 1024 * 1024


@pytest.fixture(scope="module", autouse=True)
def node_client() -> None:
    assert shutil.which("node"), "Node is required: run the README's set-up"
    assert (HERE / "node_modules" / "tus-js-client").is_dir(), (
        "tus-js-client is missing: run 'npm ci --prefix tests/interop' (make setup does it)"
    )


def _run(medpress: MedpressProcess, file: Path, token: str, **options: object) -> dict:  # type: ignore[type-arg]
    options = {
        "endpoint": f"{medpress.base_url}/files/",
        "file": str(file),
        "token": token,
        **options,
    }
    result = subprocess.run(
        ["node", str(SCRIPT), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _downloaded(medpress: MedpressProcess, url: str, token: str) -> bytes:
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "video/mp4"
    return response.content


def _same(left: bytes, right: bytes) -> bool:
    return hashlib.sha256(left).digest() == hashlib.sha256(right).digest()


def test_upload_interrupt_and_resume(medpress: MedpressProcess, clip: Path) -> None:
    token = medpress.token("js-client")
    first = _run(medpress, clip, token, chunkSize=8 * MIB, stopAfterChunks=1)
    assert first["done"] is False and first["offset"] == 8 * MIB
    head = httpx.head(
        first["url"], headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    )
    assert head.headers["Upload-Offset"] == str(8 * MIB)
    second = _run(medpress, clip, token, chunkSize=8 * MIB, uploadUrl=first["url"])
    assert second == {"url": first["url"], "offset": clip.stat().st_size, "done": True}
    assert _same(_downloaded(medpress, first["url"], token), clip.read_bytes())


def test_parallel_uploads_use_concatenation(medpress: MedpressProcess, clip: Path) -> None:
    token = medpress.token("js-client")
    result = _run(medpress, clip, token, parallelUploads=3)
    assert result["done"]
    head = httpx.head(
        result["url"], headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    )
    assert head.headers["Upload-Concat"].startswith("final;")
    assert _same(_downloaded(medpress, result["url"], token), clip.read_bytes())


def test_method_override_creation_with_upload_and_deferred_length(
    medpress: MedpressProcess, clip: Path
) -> None:
    token = medpress.token("js-client")
    result = _run(
        medpress,
        clip,
        token,
        chunkSize=4 * MIB,
        overridePatchMethod=True,
        uploadDataDuringCreation=True,
        uploadLengthDeferred=True,
    )
    assert result["done"]
    assert _same(_downloaded(medpress, result["url"], token), clip.read_bytes())


def test_someone_else_cannot_resume_it(medpress: MedpressProcess, clip: Path) -> None:
    owner, other = medpress.token("js-owner"), medpress.token("js-other")
    first = _run(medpress, clip, owner, chunkSize=8 * MIB, stopAfterChunks=1)
    options = {
        "endpoint": f"{medpress.base_url}/files/",
        "file": str(clip),
        "token": other,
        "chunkSize": 8 * MIB,
        "uploadUrl": first["url"],
    }
    result = subprocess.run(
        ["node", str(SCRIPT), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # tus-js-client treats a 404 on HEAD as "start over": it creates a new upload of its own
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome.get("url") != first["url"]
    head = httpx.head(
        first["url"], headers={"Authorization": f"Bearer {owner}", "Tus-Resumable": "1.0.0"}
    )
    assert head.headers["Upload-Offset"] == str(8 * MIB)
