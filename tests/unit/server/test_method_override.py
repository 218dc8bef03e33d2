"""X-HTTP-Method-Override: POST standing in for PATCH and DELETE."""

import httpx

from .tus_requests import OCTETS, TUS, create_upload, offset_of


def test_post_as_patch(client: httpx.Client) -> None:
    upload_id = create_upload(client, 3)
    response = client.post(
        f"/files/{upload_id}",
        headers={
            **TUS,
            "X-HTTP-Method-Override": "PATCH",
            "Content-Type": OCTETS,
            "Upload-Offset": "0",
        },
        content=b"abc",
    )
    assert (response.status_code, response.headers["Upload-Offset"]) == (204, "3")


def test_post_as_delete(client: httpx.Client) -> None:
    upload_id = create_upload(client, 3)
    response = client.post(
        f"/files/{upload_id}", headers={**TUS, "X-HTTP-Method-Override": "delete"}
    )
    assert response.status_code == 204
    assert client.head(f"/files/{upload_id}", headers=TUS).status_code == 404


def test_other_overrides_and_plain_post_are_refused(client: httpx.Client) -> None:
    upload_id = create_upload(client, 3)
    for override in ("GET", "PUT", "TRACE", None):
        headers = {**TUS, **({"X-HTTP-Method-Override": override} if override else {})}
        assert client.post(f"/files/{upload_id}", headers=headers).status_code == 405
    assert offset_of(client, upload_id) == 0


def test_override_only_applies_to_post(client: httpx.Client) -> None:
    upload_id = create_upload(client, 3)
    response = client.get(
        f"/files/{upload_id}", headers={**TUS, "X-HTTP-Method-Override": "DELETE"}
    )
    assert response.status_code == 409  # a GET of an unfinished upload, not a DELETE
    assert offset_of(client, upload_id) == 0
