"""tus concatenation: partial uploads joined into a final one."""

import httpx
import pytest

from .tus_requests import OCTETS, TUS, append, offset_of

MAX = 64 * 1024 * 1024


def _partial(client: httpx.Client, data: bytes, finish: bool = True) -> str:
    response = client.post(
        "/files/", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Concat": "partial"}
    )
    assert response.status_code == 201, response.text
    upload_id = response.headers["Location"].removeprefix("/files/")
    if finish:
        assert append(client, upload_id, 0, data).status_code == 204
    return upload_id


def _final(client: httpx.Client, *urls: str, **headers: str) -> httpx.Response:
    return client.post(
        "/files/", headers={**TUS, "Upload-Concat": "final;" + " ".join(urls), **headers}
    )


def test_final_upload_joins_the_parts_in_order(client: httpx.Client) -> None:
    first, second, third = (_partial(client, data) for data in (b"one ", b"two ", b"three"))
    response = _final(
        client, f"/files/{second}", f"http://testserver/files/{first}", f"/files/{third}"
    )
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    head = client.head(location, headers=TUS)
    assert head.headers["Upload-Concat"] == f"final;/files/{second} /files/{first} /files/{third}"
    assert (head.headers["Upload-Length"], head.headers["Upload-Offset"]) == ("13", "13")
    assert client.get(location).content == b"two one three"
    assert client.head(f"/files/{first}", headers=TUS).headers["Upload-Concat"] == "partial"


def test_patch_on_a_final_upload_is_forbidden(client: httpx.Client) -> None:
    location = _final(client, f"/files/{_partial(client, b'ab')}").headers["Location"]
    response = client.patch(
        location, headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "2"}, content=b""
    )
    assert (response.status_code, response.json()["code"]) == (403, "ERR_MODIFY_FINAL")


def test_final_upload_keeps_its_metadata(client: httpx.Client) -> None:
    part = _partial(client, b"ab")
    response = _final(client, f"/files/{part}", **{"Upload-Metadata": "filetype dmlkZW8vbXA0"})
    assert client.get(response.headers["Location"]).headers["Content-Type"] == "video/mp4"


@pytest.mark.parametrize(
    "concat",
    [
        "final;",
        "final",
        "final;/files/nothex",
        "final; /elsewhere/" + "0" * 32,
        "partial;x",
        "both",
    ],
)
def test_malformed_concat_headers(client: httpx.Client, concat: str) -> None:
    response = client.post(
        "/files/", headers={**TUS, "Upload-Length": "1", "Upload-Concat": concat}
    )
    assert (response.status_code, response.json()["code"]) == (400, "ERR_INVALID_CONCAT")


def test_parts_must_be_finished_partials_of_the_same_owner(
    client: httpx.Client, stranger: httpx.Client
) -> None:
    unfinished = _partial(client, b"abc", finish=False)
    append(client, unfinished, 0, b"a")
    plain = client.post("/files/", headers={**TUS, "Upload-Length": "0"}).headers["Location"]
    theirs = _partial(stranger, b"xyz")
    for url in (f"/files/{unfinished}", plain, f"/files/{theirs}", "/files/" + "0" * 32):
        response = _final(client, url)
        assert (response.status_code, response.json()["code"]) == (400, "ERR_INVALID_CONCAT"), url
    assert offset_of(client, unfinished) == 1


def test_final_takes_no_length(client: httpx.Client) -> None:
    response = _final(client, f"/files/{_partial(client, b'a')}", **{"Upload-Length": "1"})
    assert response.status_code == 400


def test_final_cannot_exceed_the_maximum_size(client: httpx.Client) -> None:
    big = client.post(
        "/files/", headers={**TUS, "Upload-Length": str(MAX), "Upload-Concat": "partial"}
    ).headers["Location"]
    chunk = b"\0" * (1024 * 1024)
    response = client.patch(
        big,
        headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "0", "Content-Length": str(MAX)},
        content=(chunk for _ in range(64)),
    )
    assert response.status_code == 204
    assert _final(client, big, f"/files/{_partial(client, b'x')}").status_code == 413
