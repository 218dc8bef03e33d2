"""Strict header parsing and the error catalogue (pure)."""

import pytest

from server.tus import errors
from server.tus.errors import CATALOGUE, TusError
from server.tus.headers import MAX_BYTE_COUNT, byte_count, media_type, single


class _Headers:
    def __init__(self, *pairs: tuple[str, str]) -> None:
        self._pairs = pairs

    def getall(self, key: str, default: list[str] | None = None) -> list[str]:
        return [v for k, v in self._pairs if k.lower() == key.lower()] or (default or [])


@pytest.mark.parametrize(
    ("raw", "value"), [("0", 0), ("42", 42), ("007", 7), (str(MAX_BYTE_COUNT), MAX_BYTE_COUNT)]
)
def test_byte_count_accepts_plain_digits(raw: str, value: int) -> None:
    assert byte_count(raw, errors.INVALID_OFFSET) == value


@pytest.mark.parametrize(
    "raw", ["", "-1", "+1", " 1", "1 ", "1_0", "1.0", "1e3", "0x1", "١", str(2**63), "9" * 20]
)
def test_byte_count_rejects_everything_else(raw: str) -> None:
    with pytest.raises(TusError) as error:
        byte_count(raw, errors.INVALID_OFFSET)
    assert error.value.code == "ERR_INVALID_OFFSET"


def test_single_header() -> None:
    assert single(_Headers(), "Upload-Offset") is None
    assert single(_Headers(("upload-offset", "3")), "Upload-Offset") == "3"
    with pytest.raises(TusError) as error:
        single(_Headers(("Upload-Offset", "3"), ("upload-offset", "3")), "Upload-Offset")
    assert error.value.code == "ERR_DUPLICATE_HEADER"
    assert error.value.status == 400


def test_media_type() -> None:
    assert media_type("Application/Offset+Octet-Stream ; x=y") == "application/offset+octet-stream"


def test_catalogue_codes_are_unique_client_errors() -> None:
    codes = [kind.code for kind in CATALOGUE]
    assert len(codes) == len(set(codes))
    # client errors, but for storage failing (503: the client retries, nothing is lost)
    clients = [kind for kind in CATALOGUE if kind is not errors.STORAGE_UNAVAILABLE]
    assert all(400 <= kind.status < 500 for kind in clients)
    assert errors.STORAGE_UNAVAILABLE.status == 503
    assert all(kind.message.endswith(".") for kind in CATALOGUE)
    assert set(CATALOGUE) == {
        value for value in vars(errors).values() if isinstance(value, errors.ErrorKind)
    }


def test_412_carries_tus_version() -> None:
    assert ("Tus-Version", "1.0.0") in errors.UNSUPPORTED_VERSION.headers
