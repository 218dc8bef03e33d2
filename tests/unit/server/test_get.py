"""GET /files/{id}: the owner downloads a finished upload."""

import httpx
import pytest

from .tus_requests import Call, Expect, append, check, create_upload, metadata

DATA = b"\x00\x01video-bytes" * 1000


def _finished(client: httpx.Client, upload_metadata: str | None = None) -> str:
    upload_id = create_upload(client, len(DATA), upload_metadata)
    assert append(client, upload_id, 0, DATA).status_code == 204
    return upload_id


def test_download_streams_the_bytes(client: httpx.Client) -> None:
    upload_id = _finished(client, metadata(filetype="video/mp4", filename="secret.mp4"))
    response = check(
        client,
        Call("GET", tus=False),
        Expect(
            200,
            headers={
                "Content-Type": "video/mp4",
                "Content-Length": str(len(DATA)),
                "Content-Disposition": "attachment",
                "Cache-Control": "no-store",
            },
        ),
        upload_id,
    )
    assert response.content == DATA
    assert "secret" not in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("filetype", "served_as"),
    [
        ("video/quicktime", "video/quicktime"),
        ("image/webp", "image/webp"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_content_type_comes_from_an_allow_list(client: httpx.Client, filetype, served_as) -> None:
    upload_id = _finished(client, metadata(filetype=filetype) if filetype else None)
    check(
        client, Call("GET", tus=False), Expect(200, headers={"Content-Type": served_as}), upload_id
    )


def test_unfinished_upload_is_a_conflict(client: httpx.Client) -> None:
    upload_id = create_upload(client, len(DATA))
    assert append(client, upload_id, 0, DATA[:10]).status_code == 204
    check(client, Call("GET", tus=False), Expect(409, code="ERR_UPLOAD_NOT_FINISHED"), upload_id)


def test_another_principal_gets_404(client: httpx.Client, stranger: httpx.Client) -> None:
    upload_id = _finished(client)
    check(stranger, Call("GET", tus=False), Expect(404, code="ERR_UPLOAD_NOT_FOUND"), upload_id)


def test_needs_a_session(client: httpx.Client, anonymous: httpx.Client) -> None:
    upload_id = _finished(client)
    check(anonymous, Call("GET", tus=False), Expect(401), upload_id)


def test_unknown_upload(client: httpx.Client) -> None:
    check(client, Call("GET", "/files/" + "f" * 32, tus=False), Expect(404))
