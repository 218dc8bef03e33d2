"""POST /files/: tus creation."""

import re

import httpx
import pytest

from .tus_requests import TUS, Call, Expect, check, create_upload, metadata

MAX = 64 * 1024 * 1024
LENGTH = {"Upload-Length": "100"}


def _post(headers: dict[str, str] | list[tuple[str, str]], tus: bool = True) -> Call:
    return Call("POST", "/files/", headers=headers, tus=tus)


CASES = {
    "minimal": (_post(LENGTH), Expect(201, headers={"Tus-Resumable": "1.0.0"})),
    "zero length": (_post({"Upload-Length": "0"}), Expect(201)),
    "exactly the maximum": (_post({"Upload-Length": str(MAX)}), Expect(201)),
    "with metadata": (
        _post({**LENGTH, "Upload-Metadata": metadata(filename="a.mp4", filetype="video/mp4")}),
        Expect(201),
    ),
    "metadata key without value": (_post({**LENGTH, "Upload-Metadata": "bypass"}), Expect(201)),
    "no Tus-Resumable": (
        _post(LENGTH, tus=False),
        Expect(412, headers={"Tus-Version": "1.0.0"}, code="ERR_UNSUPPORTED_VERSION"),
    ),
    "old Tus-Resumable": (
        _post({**LENGTH, "Tus-Resumable": "0.2.2"}, tus=False),
        Expect(412, headers={"Tus-Version": "1.0.0"}),
    ),
    "no Upload-Length": (_post({}), Expect(400, code="ERR_INVALID_UPLOAD_LENGTH")),
    "negative length": (
        _post({"Upload-Length": "-1"}),
        Expect(400, code="ERR_INVALID_UPLOAD_LENGTH"),
    ),
    "word length": (_post({"Upload-Length": "ten"}), Expect(400, code="ERR_INVALID_UPLOAD_LENGTH")),
    "fractional length": (_post({"Upload-Length": "1.5"}), Expect(400)),
    "plus sign": (_post({"Upload-Length": "+5"}), Expect(400)),
    "underscore digits": (_post({"Upload-Length": "1_000"}), Expect(400)),
    "overflowing length": (_post({"Upload-Length": "9" * 40}), Expect(400)),
    "2**63": (_post({"Upload-Length": str(2**63)}), Expect(400)),
    "over the maximum": (
        _post({"Upload-Length": str(MAX + 1)}),
        Expect(413, code="ERR_MAX_SIZE_EXCEEDED"),
    ),
    "deferred length": (_post({"Upload-Defer-Length": "1"}), Expect(201)),
    "deferred length is not 1": (
        _post({"Upload-Defer-Length": "2"}),
        Expect(400, code="ERR_INVALID_DEFER_LENGTH"),
    ),
    "both length and deferral": (
        _post({"Upload-Defer-Length": "1", **LENGTH}),
        Expect(400, code="ERR_INVALID_DEFER_LENGTH"),
    ),
    # The test transport joins repeated headers into "1, 2"; test_spray sends them raw.
    "repeated Upload-Length": (
        _post([("Upload-Length", "1"), ("Upload-Length", "2")]),
        Expect(400),
    ),
    "bad base64": (
        _post({**LENGTH, "Upload-Metadata": "filename !!!notbase64"}),
        Expect(400, code="ERR_INVALID_METADATA"),
    ),
    "value too large": (
        _post({**LENGTH, "Upload-Metadata": metadata(filename="x" * 1025)}),
        Expect(400, code="ERR_METADATA_TOO_LARGE"),
    ),
    "header too large": (
        _post({**LENGTH, "Upload-Metadata": ",".join([metadata(reason="x" * 1000)] * 5)}),
        Expect(400, code="ERR_METADATA_TOO_LARGE"),
    ),
}


@pytest.mark.parametrize(("call", "expect"), CASES.values(), ids=CASES.keys())
def test_post(client: httpx.Client, call: Call, expect: Expect) -> None:
    check(client, call, expect)


def test_location_is_a_path_with_a_fresh_hex_id(client: httpx.Client) -> None:
    locations = {
        client.post("/files/", headers={**TUS, **LENGTH}).headers["location"] for _ in range(5)
    }
    assert len(locations) == 5
    assert all(re.fullmatch(r"/files/[0-9a-f]{32}", location) for location in locations)


def test_needs_a_session(anonymous: httpx.Client) -> None:
    check(anonymous, _post(LENGTH), Expect(401, code="ERR_NOT_SIGNED_IN"))


def test_forged_session_is_no_session(anonymous: httpx.Client) -> None:
    anonymous.cookies.set("medpress_session", "a" * 32 + "." + "b" * 64)
    check(anonymous, _post(LENGTH), Expect(401))


def test_unknown_metadata_key_is_named_in_the_message(client: httpx.Client) -> None:
    response = check(
        client,
        _post({**LENGTH, "Upload-Metadata": metadata(filename="a.mp4", patient_name="x")}),
        Expect(400, code="ERR_METADATA_KEY_NOT_ALLOWED"),
    )
    assert "'patient_name'" in response.json()["message"]


def test_zero_length_upload_is_finished_at_once(client: httpx.Client) -> None:
    upload_id = create_upload(client, 0)
    response = client.get(f"/files/{upload_id}")
    assert response.status_code == 200
    assert response.content == b""
