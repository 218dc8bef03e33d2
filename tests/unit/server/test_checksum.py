"""tus checksum extension: Upload-Checksum on PATCH (and POST with a body)."""

import base64
import hashlib

import httpx
import pytest

from .tus_requests import OCTETS, TUS, create_upload, offset_of

DATA = b"clinical video bytes" * 100


def _digest(algorithm: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def _patch(client: httpx.Client, upload_id: str, body: bytes, checksum: str, offset: int = 0):  # type: ignore[no-untyped-def]
    headers = {
        **TUS,
        "Content-Type": OCTETS,
        "Upload-Offset": str(offset),
        "Upload-Checksum": checksum,
    }
    return client.patch(f"/files/{upload_id}", headers=headers, content=body)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_matching_checksum_is_accepted(client: httpx.Client, algorithm: str) -> None:
    upload_id = create_upload(client, len(DATA))
    response = _patch(client, upload_id, DATA, f"{algorithm} {_digest(algorithm, DATA)}")
    assert response.status_code == 204
    assert client.get(f"/files/{upload_id}").content == DATA


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_mismatch_is_460_and_the_chunk_is_discarded(client: httpx.Client, algorithm: str) -> None:
    upload_id = create_upload(client, len(DATA))
    assert (
        _patch(client, upload_id, DATA[:100], f"sha1 {_digest('sha1', DATA[:100])}").status_code
        == 204
    )
    response = _patch(
        client, upload_id, DATA[100:], f"{algorithm} {_digest(algorithm, b'other')}", 100
    )
    assert response.status_code == 460
    assert response.json()["code"] == "ERR_CHECKSUM_MISMATCH"
    assert offset_of(client, upload_id) == 100
    good = _patch(
        client, upload_id, DATA[100:], f"{algorithm} {_digest(algorithm, DATA[100:])}", 100
    )
    assert good.status_code == 204
    assert client.get(f"/files/{upload_id}").content == DATA


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("crc32 AAAAAA==", "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM"),
        ("sha1", "ERR_INVALID_CHECKSUM"),
        ("sha1 not-base64!", "ERR_INVALID_CHECKSUM"),
        ("sha1 " + base64.b64encode(b"short").decode(), "ERR_INVALID_CHECKSUM"),
        ("", "ERR_INVALID_CHECKSUM"),
    ],
)
def test_bad_checksum_headers_are_400(client: httpx.Client, header: str, code: str) -> None:
    upload_id = create_upload(client, 3)
    response = _patch(client, upload_id, b"abc", header)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert offset_of(client, upload_id) == 0


def test_creation_with_upload_checks_the_checksum(client: httpx.Client) -> None:
    headers = {**TUS, "Upload-Length": "3", "Content-Type": OCTETS}
    bad = client.post(
        "/files/",
        headers={**headers, "Upload-Checksum": f"sha1 {_digest('sha1', b'xyz')}"},
        content=b"abc",
    )
    assert bad.status_code == 460
    upload_id = bad.headers["Location"].removeprefix("/files/")
    assert offset_of(client, upload_id) == 0
    good = client.post(
        "/files/",
        headers={**headers, "Upload-Checksum": f"sha1 {_digest('sha1', b'abc')}"},
        content=b"abc",
    )
    assert (good.status_code, good.headers["Upload-Offset"]) == (201, "3")
