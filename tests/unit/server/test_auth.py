"""Who may touch what: Bearer tokens, the dev-mode cookie, ownership, case references."""

import base64
import logging
from collections.abc import Callable

import httpx
import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.db.registry import UploadInfo
from server.storage import MemoryStorage

from .conftest import SECRET
from .tus_requests import TUS, append, create_upload, metadata, offset_of


def test_a_token_holder_owns_its_uploads(bearer: Callable[..., httpx.Client]) -> None:
    alice, bob = bearer("alice"), bearer("bob")
    upload_id = create_upload(alice, 3)
    assert append(alice, upload_id, 0, b"abc").status_code == 204
    for method in ("HEAD", "PATCH", "DELETE", "GET"):
        response = bob.request(
            method,
            f"/files/{upload_id}",
            headers={
                **TUS,
                "Upload-Offset": "3",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert response.status_code == 404, method
    assert alice.get(f"/files/{upload_id}").content == b"abc"


def test_a_new_token_for_the_same_user_resumes(bearer: Callable[..., httpx.Client]) -> None:
    upload_id = create_upload(bearer("alice", "CASE-1"), 4)
    assert append(bearer("alice"), upload_id, 0, b"data").status_code == 204


def test_token_and_cookie_are_different_principals(
    client: httpx.Client, bearer: Callable[..., httpx.Client]
) -> None:
    upload_id = create_upload(client, 1)
    assert bearer("alice").head(f"/files/{upload_id}", headers=TUS).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nonsense", "Basic YWxpY2U6cHc=", "Bearer", "bearer mp1.e30.AAAA", ""],
)
def test_a_bad_authorization_header_is_no_principal_even_with_a_cookie(
    client: httpx.Client, authorization: str
) -> None:
    response = client.post(
        "/files/", headers={**TUS, "Upload-Length": "1", "Authorization": authorization}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "ERR_NOT_SIGNED_IN"


def test_token_mode_refuses_the_cookie(make_settings) -> None:  # type: ignore[no-untyped-def]
    from server.auth.tokens import mint_token

    app = create_app(make_settings(auth_mode="token"), storage=MemoryStorage())
    with TestClient(app) as page:
        page.get("/")
        assert page.post("/files/", headers={**TUS, "Upload-Length": "1"}).status_code == 401
        token = mint_token(SECRET, "alice")
        response = page.post(
            "/files/",
            headers={**TUS, "Upload-Length": "1", "Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201


def test_case_reference_is_stored_but_never_shown_or_logged(
    bearer: Callable[..., httpx.Client],
    stored: Callable[[str], UploadInfo | None],
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    case = "EPIC-CASE-98765"
    alice = bearer("alice", case)
    upload_id = create_upload(alice, 2, metadata(filename="a.mp4"))
    append(alice, upload_id, 0, b"ab")
    head = alice.head(f"/files/{upload_id}", headers=TUS)
    assert case not in str(head.headers)
    assert case not in base64.b64decode(head.headers["Upload-Metadata"].split(" ")[1]).decode()
    assert case not in caplog.text
    row = stored(upload_id)
    assert row is not None and row.case_ref == case


def test_ids_are_long_and_random(bearer: Callable[..., httpx.Client]) -> None:
    alice = bearer("alice")
    ids = [create_upload(alice, 1) for _ in range(5)]
    assert len(set(ids)) == 5 and all(len(i) == 32 for i in ids)
    assert offset_of(alice, ids[0]) == 0
