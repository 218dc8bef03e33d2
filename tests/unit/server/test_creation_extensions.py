"""creation-with-upload and creation-defer-length."""

import httpx

from .tus_requests import OCTETS, TUS, append, create_upload, offset_of


def _location(response: httpx.Response) -> str:
    return response.headers["Location"].removeprefix("/files/")


def test_creation_with_upload(client: httpx.Client) -> None:
    response = client.post(
        "/files/", headers={**TUS, "Upload-Length": "10", "Content-Type": OCTETS}, content=b"01234"
    )
    assert (response.status_code, response.headers["Upload-Offset"]) == (201, "5")
    upload_id = _location(response)
    assert append(client, upload_id, 5, b"56789").headers["Upload-Offset"] == "10"
    assert client.get(f"/files/{upload_id}").content == b"0123456789"


def test_creation_with_the_whole_upload(client: httpx.Client) -> None:
    response = client.post(
        "/files/", headers={**TUS, "Upload-Length": "3", "Content-Type": OCTETS}, content=b"abc"
    )
    assert response.headers["Upload-Offset"] == "3"
    assert "Upload-Expires" not in response.headers  # finished: it no longer expires
    assert client.get(response.headers["Location"]).content == b"abc"


def test_creation_with_too_much_data_keeps_the_upload_empty(client: httpx.Client) -> None:
    response = client.post(
        "/files/", headers={**TUS, "Upload-Length": "3", "Content-Type": OCTETS}, content=b"abcd"
    )
    assert response.status_code == 413
    assert offset_of(client, _location(response)) == 0


def test_a_body_without_the_tus_content_type_is_ignored(client: httpx.Client) -> None:
    response = client.post(
        "/files/",
        headers={**TUS, "Upload-Length": "3", "Content-Type": "text/plain"},
        content=b"abc",
    )
    assert response.status_code == 201
    assert "Upload-Offset" not in response.headers
    assert offset_of(client, _location(response)) == 0


def test_deferred_length(client: httpx.Client) -> None:
    response = client.post("/files/", headers={**TUS, "Upload-Defer-Length": "1"})
    upload_id = _location(response)
    head = client.head(f"/files/{upload_id}", headers=TUS)
    assert head.headers["Upload-Defer-Length"] == "1"
    assert "Upload-Length" not in head.headers
    assert append(client, upload_id, 0, b"abc").headers["Upload-Offset"] == "3"
    declared = client.patch(
        f"/files/{upload_id}",
        headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "3", "Upload-Length": "5"},
        content=b"de",
    )
    assert declared.status_code == 204
    head = client.head(f"/files/{upload_id}", headers=TUS)
    assert (head.headers["Upload-Length"], head.headers["Upload-Offset"]) == ("5", "5")
    assert "Upload-Defer-Length" not in head.headers
    assert client.get(f"/files/{upload_id}").content == b"abcde"


def test_deferred_length_rules(client: httpx.Client) -> None:
    upload_id = _location(client.post("/files/", headers={**TUS, "Upload-Defer-Length": "1"}))
    append(client, upload_id, 0, b"abcd")

    def declare(length: str, body: bytes = b"") -> httpx.Response:
        headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": "4", "Upload-Length": length}
        return client.patch(f"/files/{upload_id}", headers=headers, content=body)

    assert declare("3").json()["code"] == "ERR_LENGTH_BELOW_OFFSET"
    assert declare(str(64 * 1024 * 1024 + 1)).status_code == 413
    assert declare("-1").status_code == 400
    assert declare("6", b"xyz").status_code == 413  # more than the declared length
    assert offset_of(client, upload_id) == 4
    assert declare("6", b"").status_code == 204
    assert declare("7").json()["code"] == "ERR_LENGTH_ALREADY_SET"
    assert declare("6").status_code == 204


def test_the_length_declared_last_may_bring_metadata_known_only_at_the_end(client: httpx.Client) -> None:
    """Ours, for clips streamed while they are encoded: the measured quality is known only
    once the last fragment is, and arrives with the declared length."""
    created = {**TUS, "Upload-Defer-Length": "1", "Upload-Metadata": "filetype dmlkZW8vbXA0,compressed MQ=="}
    upload_id = _location(client.post("/files/", headers=created))
    append(client, upload_id, 0, b"abc")

    def declare(metadata: str, length: str = "3", offset: str = "3") -> httpx.Response:
        headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": offset, "Upload-Length": length,
                   "Upload-Metadata": metadata}
        return client.patch(f"/files/{upload_id}", headers=headers, content=b"")

    refused = declare("compressed MA==")  # a key it has: never rewritten
    assert (refused.status_code, refused.json()["code"]) == (400, "ERR_METADATA_NOT_WITH_LENGTH")
    assert declare("patient bmFtZQ==").json()["code"] == "ERR_METADATA_KEY_NOT_ALLOWED"
    assert offset_of(client, upload_id) == 3 and "Upload-Length" not in client.head(
        f"/files/{upload_id}", headers=TUS).headers  # nothing of a refused PATCH was kept
    assert declare("ssim MC45ODEy").status_code == 204
    head = client.head(f"/files/{upload_id}", headers=TUS)
    assert head.headers["Upload-Length"] == "3"
    assert head.headers["Upload-Metadata"] == "filetype dmlkZW8vbXA0,compressed MQ==,ssim MC45ODEy"
    assert client.get(f"/files/{upload_id}").content == b"abc"


def test_metadata_comes_only_with_a_deferred_length(client: httpx.Client) -> None:
    deferred = _location(client.post("/files/", headers={**TUS, "Upload-Defer-Length": "1"}))
    fixed = create_upload(client, 3)
    for upload_id, extra in ((deferred, {}), (fixed, {"Upload-Length": "3"})):
        headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": "0", "Upload-Metadata": "ssim MC45ODEy",
                   **extra}
        response = client.patch(f"/files/{upload_id}", headers=headers, content=b"ab")
        assert (response.status_code, response.json()["code"]) == (400, "ERR_METADATA_NOT_WITH_LENGTH")
        assert offset_of(client, upload_id) == 0


def test_deferred_length_is_capped_by_the_maximum_size(client: httpx.Client) -> None:
    upload_id = _location(client.post("/files/", headers={**TUS, "Upload-Defer-Length": "1"}))
    too_much = (b"x" * (1024 * 1024) for _ in range(65))  # chunked, 65 MiB > 64 MiB
    response = client.patch(
        f"/files/{upload_id}",
        headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "0"},
        content=too_much,
    )
    assert (response.status_code, response.json()["code"]) == (413, "ERR_MAX_SIZE_EXCEEDED")
    assert offset_of(client, upload_id) == 0


def test_length_of_a_normal_upload_cannot_change(client: httpx.Client) -> None:
    upload_id = create_upload(client, 5)
    response = client.patch(
        f"/files/{upload_id}",
        headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "0", "Upload-Length": "9"},
        content=b"ab",
    )
    assert response.json()["code"] == "ERR_LENGTH_ALREADY_SET"
