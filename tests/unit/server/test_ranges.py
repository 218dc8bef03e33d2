"""Range on GET /files/{id} (pure parser and over HTTP)."""

import httpx
import pytest

from server.tus.errors import TusError
from server.tus.ranges import byte_range

from .tus_requests import append, create_upload

DATA = bytes(range(256)) * 40  # 10240 bytes


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 10)),
        ("bytes=10-", (10, 100)),
        ("bytes=-10", (90, 100)),
        ("bytes=-1000", (0, 100)),
        ("bytes=95-200", (95, 100)),
        ("bytes=5-4", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=abc", None),
    ],
)
def test_parse(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0", "bytes=500-600"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(TusError) as error:
        byte_range(header, 100)
    assert error.value.status == 416
    assert error.value.headers["Content-Range"] == "bytes */100"


@pytest.fixture
def finished(client: httpx.Client) -> str:
    upload_id = create_upload(client, len(DATA))
    assert append(client, upload_id, 0, DATA).status_code == 204
    return f"/files/{upload_id}"


def test_whole_file_advertises_ranges(client: httpx.Client, finished: str) -> None:
    response = client.get(finished)
    assert response.status_code == 200
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.content == DATA


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 100), ("bytes=5000-", 5000, 10240), ("bytes=-17", 10223, 10240)],
)
def test_partial_content(
    client: httpx.Client, finished: str, header: str, start: int, end: int
) -> None:
    response = client.get(finished, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(DATA)}"
    assert response.headers["Content-Length"] == str(end - start)
    assert response.content == DATA[start:end]


def test_range_outside_the_file(client: httpx.Client, finished: str) -> None:
    response = client.get(finished, headers={"Range": "bytes=20000-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_range_for_someone_else_is_still_404(finished: str, stranger: httpx.Client) -> None:
    assert stranger.get(finished, headers={"Range": "bytes=0-1"}).status_code == 404
