"""Bad input gets a 4xx and leaves stored data untouched."""

import pytest

from tests.conformance.target import OCTETS, TusTarget, metadata

BAD_NUMBERS = ["-1", "abc", "1.5", "9" * 30, str(2**64), "0x10", ""]


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_upload_length_on_creation(tus: TusTarget, value: str) -> None:
    response = tus.request("POST", tus.url, {"Upload-Length": value})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_offset_on_patch(tus: TusTarget, value: str) -> None:
    url = tus.new_upload(10)
    tus.patch(url, 0, b"abc")
    response = tus.request("PATCH", url, {"Content-Type": OCTETS, "Upload-Offset": value}, b"x")
    assert 400 <= response.status_code < 500
    assert tus.offset(url) == 3


def test_more_data_than_the_upload_length(tus: TusTarget) -> None:
    url = tus.new_upload(5)
    tus.patch(url, 0, b"ab")
    response = tus.patch(url, 2, b"cdefgh")
    assert response.status_code in (400, 413)
    assert tus.offset(url) == 2
    assert tus.patch(url, 2, b"cde").status_code == 204


@pytest.mark.parametrize(
    "suffix",
    ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "x" * 300, "0123456789abcdef0123456789abcdef.info"],
)
def test_malformed_and_traversal_ids(tus: TusTarget, suffix: str) -> None:
    for method in ("HEAD", "PATCH", "DELETE"):
        response = tus.request(
            method, tus.url + suffix, {"Content-Type": OCTETS, "Upload-Offset": "0"}, b""
        )
        assert 400 <= response.status_code < 500, (method, response.status_code)
        if tus.is_medpress:
            assert response.status_code == 404


def test_duplicate_headers_are_refused(tus: TusTarget, medpress_only: None) -> None:
    response = tus.request("POST", tus.url, [("Upload-Length", "5"), ("Upload-Length", "6")])  # type: ignore[arg-type]
    assert response.status_code == 400


def test_metadata_keys_are_allow_listed(tus: TusTarget, medpress_only: None) -> None:
    response = tus.create(5, **{"Upload-Metadata": metadata(filename="a.mp4", patient_name="X")})
    assert response.status_code == 400
    assert "patient_name" in response.json()["message"]
    too_big = tus.create(5, **{"Upload-Metadata": metadata(filename="a" * 5000)})
    assert too_big.status_code == 400
