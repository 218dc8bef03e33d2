"""DELETE /files/{id}: tus termination."""

import httpx

from .tus_requests import TUS, Call, Expect, append, check, create_upload


def test_terminate_an_unfinished_upload(client: httpx.Client) -> None:
    upload_id = create_upload(client, 10)
    append(client, upload_id, 0, b"abc")
    check(client, Call("DELETE"), Expect(204, headers={"Tus-Resumable": "1.0.0"}), upload_id)
    check(client, Call("HEAD"), Expect(404), upload_id)
    check(client, Call("DELETE"), Expect(404), upload_id)


def test_terminate_a_finished_upload(client: httpx.Client) -> None:
    upload_id = create_upload(client, 3)
    append(client, upload_id, 0, b"abc")
    check(client, Call("DELETE"), Expect(204), upload_id)
    assert client.get(f"/files/{upload_id}").status_code == 404


def test_needs_the_version_header(client: httpx.Client) -> None:
    upload_id = create_upload(client, 3)
    check(client, Call("DELETE", tus=False), Expect(412), upload_id)
    check(client, Call("HEAD"), Expect(200), upload_id)


def test_only_the_owner(
    client: httpx.Client, stranger: httpx.Client, anonymous: httpx.Client
) -> None:
    upload_id = create_upload(client, 3)
    check(stranger, Call("DELETE"), Expect(404), upload_id)
    check(anonymous, Call("DELETE"), Expect(401), upload_id)
    check(client, Call("HEAD"), Expect(200), upload_id)


def test_unknown_and_malformed_ids(client: httpx.Client) -> None:
    for path in ("/files/" + "0" * 32, "/files/..%2Fsecret", "/files/abc"):
        assert client.delete(path, headers=TUS).status_code == 404
