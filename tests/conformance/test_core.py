"""tus 1.0 core protocol: discovery, HEAD, PATCH, versions, offsets."""

import os
import threading
import time

import httpx
import pytest

from tests.conformance.target import OCTETS, TusTarget, metadata

REQUIRED_BY_MEDPRESS = {
    "creation",
    "creation-with-upload",
    "creation-defer-length",
    "expiration",
    "checksum",
    "termination",
    "concatenation",
}


def test_options_discovery(tus: TusTarget) -> None:
    response = tus.options()
    assert response.status_code in (200, 204)
    assert "1.0.0" in [v.strip() for v in response.headers["Tus-Version"].split(",")]
    assert response.headers["Tus-Resumable"] == "1.0.0"
    if "Tus-Max-Size" in response.headers:
        assert int(response.headers["Tus-Max-Size"]) > 0
    assert "creation" in tus.extensions(), "without creation there is nothing to test"


def test_medpress_advertises_every_required_extension(tus: TusTarget, medpress_only: None) -> None:
    response = tus.options()
    assert REQUIRED_BY_MEDPRESS <= tus.extensions()
    algorithms = {a.strip() for a in response.headers["Tus-Checksum-Algorithm"].split(",")}
    assert {"sha1", "sha256", "md5"} <= algorithms
    assert int(response.headers["Tus-Max-Size"]) == 64 * 1024 * 1024


def test_head_of_a_new_upload(tus: TusTarget) -> None:
    url = tus.new_upload(
        10, **{"Upload-Metadata": metadata(filename="a.mp4", filetype="video/mp4")}
    )
    response = tus.head(url)
    assert response.status_code == 200
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Length"] == "10"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.content == b""
    pairs = dict(p.strip().split(" ") for p in response.headers["Upload-Metadata"].split(","))
    assert pairs == {"filename": "YS5tcDQ=", "filetype": "dmlkZW8vbXA0"}


def test_patch_appends_and_head_follows(tus: TusTarget) -> None:
    url = tus.new_upload(11)
    first = tus.patch(url, 0, b"hello ")
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "6"
    assert first.headers["Tus-Resumable"] == "1.0.0"
    assert tus.offset(url) == 6
    assert tus.patch(url, 6, b"world").headers["Upload-Offset"] == "11"
    content = tus.download(url)
    assert content in (None, b"hello world")


def test_offset_mismatch_is_409(tus: TusTarget) -> None:
    url = tus.new_upload(10)
    tus.patch(url, 0, b"abc")
    for wrong in (0, 2, 5):
        assert tus.patch(url, wrong, b"x").status_code == 409
    assert tus.offset(url) == 3


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "text/plain"])
def test_wrong_content_type_is_415(tus: TusTarget, content_type: str | None) -> None:
    url = tus.new_upload(3)
    headers = {"Upload-Offset": "0"} | ({"Content-Type": content_type} if content_type else {})
    assert tus.request("PATCH", url, headers, b"abc").status_code == 415
    assert tus.offset(url) == 0


@pytest.mark.parametrize("version", [None, "0.2.2", "2.0.0"])
def test_unsupported_version_is_412(tus: TusTarget, version: str | None) -> None:
    url = tus.new_upload(3)
    headers = {"Content-Type": OCTETS, "Upload-Offset": "0"}
    if version:
        headers["Tus-Resumable"] = version
    for method, body in (("PATCH", b"abc"), ("HEAD", None)):
        response = tus.request(method, url, headers, body, tus=False)
        assert response.status_code == 412, method
        assert "1.0.0" in response.headers["Tus-Version"]
    assert tus.offset(url) == 0


def test_unknown_upload_is_404(tus: TusTarget) -> None:
    missing = tus.url + "0123456789abcdef0123456789abcdef"
    assert tus.head(missing).status_code in (404, 410)
    assert tus.patch(missing, 0, b"x").status_code in (404, 410)


def test_method_override(tus: TusTarget) -> None:
    url = tus.new_upload(3)
    response = tus.request(
        "POST",
        url,
        {"X-HTTP-Method-Override": "PATCH", "Content-Type": OCTETS, "Upload-Offset": "0"},
        b"abc",
    )
    assert response.status_code == 204
    assert tus.offset(url) == 3


def test_resume_after_a_dropped_connection(tus: TusTarget) -> None:
    """The client hangs up mid-body; the server keeps what arrived; the client resumes."""
    data = os.urandom(3 * 1024 * 1024)
    url = tus.new_upload(len(data))

    def dropped_body():  # type: ignore[no-untyped-def]
        yield data[: 1024 * 1024]
        raise ConnectionResetError("the phone lost Wi-Fi")

    with pytest.raises((httpx.HTTPError, ConnectionResetError)):
        tus.patch(url, 0, dropped_body(), **{"Content-Length": str(len(data))})
    deadline = time.monotonic() + 10
    while (offset := tus.offset(url)) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # until the server notices the hang-up
    assert 0 <= offset <= 1024 * 1024
    assert tus.patch(url, offset, data[offset:]).status_code == 204
    assert tus.download(url) in (None, data)


def test_a_patch_larger_than_ten_megabytes(tus: TusTarget) -> None:
    data = os.urandom(12 * 1024 * 1024)
    url = tus.new_upload(len(data))
    response = tus.patch(url, 0, data)
    assert response.status_code == 204, response.text
    assert tus.download(url) in (None, data)


def test_concurrent_patches_never_interleave(tus: TusTarget) -> None:
    first_data, second_data = b"A" * (2 * 1024 * 1024), b"B" * (2 * 1024 * 1024)
    url = tus.new_upload(len(first_data))
    results: dict[str, int] = {}

    def slow_body():  # type: ignore[no-untyped-def]
        for start in range(0, len(first_data), 256 * 1024):
            yield first_data[start : start + 256 * 1024]
            time.sleep(0.05)

    def first() -> None:
        results["first"] = tus.patch(url, 0, slow_body()).status_code

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.15)
    results["second"] = tus.patch(url, 0, second_data).status_code
    thread.join()
    assert results["second"] in (409, 423), results
    offset = tus.offset(url)
    if offset < len(first_data):
        assert tus.patch(url, offset, first_data[offset:]).status_code == 204
    assert tus.download(url) in (None, first_data)
