"""A table-driven request helper for the tus tests (after tusd's ``httpTest``).

A test case is a `Call` plus an `Expect`; `check` sends one and asserts the other.
``{id}`` in a call's path is replaced by the upload id the test created.
"""

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


@dataclass(frozen=True)
class Call:
    method: str
    path: str = "/files/{id}"
    headers: dict[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    body: bytes | Iterable[bytes] | None = None
    tus: bool = True  # send Tus-Resumable: 1.0.0


@dataclass(frozen=True)
class Expect:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    code: str | None = None  # the catalogue code in a JSON error body


def send(client: httpx.Client, call: Call, upload_id: str = "") -> httpx.Response:
    headers = list(call.headers.items()) if isinstance(call.headers, dict) else list(call.headers)
    if call.tus:
        headers.append(("Tus-Resumable", "1.0.0"))
    return client.request(
        call.method,
        call.path.replace("{id}", upload_id),
        headers=headers,
        content=call.body,
    )


def check(client: httpx.Client, call: Call, expect: Expect, upload_id: str = "") -> httpx.Response:
    response = send(client, call, upload_id)
    assert response.status_code == expect.status, response.text
    for name, value in expect.headers.items():
        assert response.headers.get(name) == value, (name, response.headers)
    for name in expect.absent:
        assert name not in response.headers, name
    if expect.code is not None:
        assert response.json()["code"] == expect.code
    return response


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create_upload(client: httpx.Client, length: int, upload_metadata: str | None = None) -> str:
    headers = {**TUS, "Upload-Length": str(length)}
    if upload_metadata is not None:
        headers["Upload-Metadata"] = upload_metadata
    response = client.post("/files/", headers=headers)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith("/files/")
    return location.removeprefix("/files/")


def append(
    client: httpx.Client, upload_id: str, offset: int, body: bytes | Iterable[bytes]
) -> httpx.Response:
    headers = {**TUS, "Content-Type": OCTETS, "Upload-Offset": str(offset)}
    return client.patch(f"/files/{upload_id}", headers=headers, content=body)


def offset_of(client: httpx.Client, upload_id: str) -> int:
    response = client.head(f"/files/{upload_id}", headers=TUS)
    assert response.status_code == 200
    return int(response.headers["upload-offset"])
