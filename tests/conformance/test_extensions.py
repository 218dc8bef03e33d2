"""tus extensions, each tested only if the server advertises it."""

import base64
import hashlib
import os
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import pytest

from tests.conformance.target import OCTETS, TusTarget

Requires = Callable[[str], None]


def test_creation_returns_a_location(tus: TusTarget) -> None:
    response = tus.create(5)
    assert response.status_code == 201
    assert response.headers["Tus-Resumable"] == "1.0.0"
    first, second = tus.location(response), tus.location(tus.create(5))
    assert first != second


def test_creation_over_the_maximum_size_is_413(tus: TusTarget) -> None:
    maximum = tus.options().headers.get("Tus-Max-Size")
    if maximum is None:
        pytest.skip("the server advertises no Tus-Max-Size")
    assert tus.create(int(maximum) + 1).status_code == 413
    assert tus.create(int(maximum)).status_code == 201


def test_creation_with_upload(tus: TusTarget, requires: Requires) -> None:
    requires("creation-with-upload")
    response = tus.request(
        "POST", tus.url, {"Upload-Length": "10", "Content-Type": OCTETS}, b"01234"
    )
    assert response.status_code == 201
    assert response.headers["Upload-Offset"] == "5"
    url = tus.location(response)
    assert tus.offset(url) == 5
    assert tus.patch(url, 5, b"56789").status_code == 204
    assert tus.download(url) in (None, b"0123456789")


def test_creation_defer_length(tus: TusTarget, requires: Requires) -> None:
    requires("creation-defer-length")
    response = tus.create(None, **{"Upload-Defer-Length": "1"})
    assert response.status_code == 201
    url = tus.location(response)
    head = tus.head(url)
    assert head.headers["Upload-Defer-Length"] == "1"
    assert "Upload-Length" not in head.headers
    assert tus.patch(url, 0, b"abc").status_code == 204
    assert tus.patch(url, 3, b"de", **{"Upload-Length": "5"}).status_code == 204
    head = tus.head(url)
    assert (head.headers["Upload-Length"], head.headers["Upload-Offset"]) == ("5", "5")
    assert tus.download(url) in (None, b"abcde")


def test_expiration_header(tus: TusTarget, requires: Requires) -> None:
    requires("expiration")
    url = tus.new_upload(10)
    response = tus.patch(url, 0, b"abc")
    expires = parsedate_to_datetime(response.headers["Upload-Expires"]).timestamp()
    assert expires > time.time()
    assert parsedate_to_datetime(tus.head(url).headers["Upload-Expires"]).timestamp() > time.time()


def _digest(algorithm: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def _algorithms(tus: TusTarget) -> list[str]:
    raw = tus.options().headers.get("Tus-Checksum-Algorithm", "")
    return [a.strip() for a in raw.split(",") if a.strip() in ("sha1", "sha256", "md5")]


def test_checksum_match_and_mismatch(tus: TusTarget, requires: Requires) -> None:
    requires("checksum")
    algorithms = _algorithms(tus)
    assert algorithms, "checksum is advertised without a usable Tus-Checksum-Algorithm"
    data = os.urandom(64 * 1024)
    for algorithm in algorithms:
        url = tus.new_upload(len(data))
        good = tus.patch(
            url,
            0,
            data[:1000],
            **{"Upload-Checksum": f"{algorithm} {_digest(algorithm, data[:1000])}"},
        )
        assert good.status_code == 204, algorithm
        bad = tus.patch(
            url, 1000, data[1000:], **{"Upload-Checksum": f"{algorithm} {_digest(algorithm, b'x')}"}
        )
        assert bad.status_code == 460, algorithm
        assert tus.offset(url) == 1000, "a mismatching chunk must be discarded"
        retry = tus.patch(
            url,
            1000,
            data[1000:],
            **{"Upload-Checksum": f"{algorithm} {_digest(algorithm, data[1000:])}"},
        )
        assert retry.status_code == 204
        assert tus.download(url) in (None, data)


def test_checksum_with_an_unsupported_algorithm_is_400(tus: TusTarget, requires: Requires) -> None:
    requires("checksum")
    url = tus.new_upload(3)
    response = tus.patch(url, 0, b"abc", **{"Upload-Checksum": "nosuchalgo AAAA"})
    assert response.status_code == 400
    assert tus.offset(url) == 0


def test_termination(tus: TusTarget, requires: Requires) -> None:
    requires("termination")
    url = tus.new_upload(10)
    tus.patch(url, 0, b"abc")
    assert tus.request("DELETE", url).status_code == 204
    assert tus.head(url).status_code in (404, 410)
    assert tus.patch(url, 3, b"def").status_code in (404, 410)


def _partial(tus: TusTarget, data: bytes) -> str:
    url = tus.new_upload(len(data), **{"Upload-Concat": "partial"})
    assert tus.patch(url, 0, data).status_code == 204
    return url


def test_concatenation(tus: TusTarget, requires: Requires) -> None:
    requires("concatenation")
    first, second = _partial(tus, b"part one, "), _partial(tus, b"part two")
    assert tus.head(first).headers["Upload-Concat"] == "partial"
    response = tus.create(None, **{"Upload-Concat": f"final;{first} {second}"})
    assert response.status_code == 201, response.text
    final = tus.location(response)
    head = tus.head(final)
    assert head.headers["Upload-Concat"].startswith("final;")
    assert head.headers["Upload-Length"] == "18"
    patch = tus.patch(final, int(head.headers.get("Upload-Offset", "18")), b"x")
    assert patch.status_code == 403
    assert tus.download(final) in (None, b"part one, part two")


def test_concatenation_with_relative_part_urls(tus: TusTarget, requires: Requires) -> None:
    requires("concatenation")
    first, second = _partial(tus, b"ab"), _partial(tus, b"cd")
    paths = " ".join("/" + url.split("://", 1)[1].split("/", 1)[1] for url in (first, second))
    response = tus.create(None, **{"Upload-Concat": f"final;{paths}"})
    assert response.status_code == 201
    assert tus.download(tus.location(response)) in (None, b"abcd")
