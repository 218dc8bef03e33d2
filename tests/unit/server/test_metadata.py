"""Upload-Metadata parsing, the key allow-list and limits (pure)."""

import base64

import pytest

from server.tus.errors import TusError
from server.tus.metadata import ALLOWED_KEYS, encode_metadata, parse_metadata


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, {}),
        ("", {}),
        (f"filename {_b64('a.mp4')}", {"filename": "a.mp4"}),
        (
            f"filename {_b64('a.mp4')},filetype {_b64('video/mp4')}",
            {"filename": "a.mp4", "filetype": "video/mp4"},
        ),
        (f" filename {_b64('a')} , bypass ", {"filename": "a", "bypass": ""}),
        ("bypass", {"bypass": ""}),
        ("bypass ", {"bypass": ""}),
        (f"filename {_b64('Ünïcode 名前.mov')}", {"filename": "Ünïcode 名前.mov"}),
    ],
)
def test_parses(header: str | None, expected: dict[str, str]) -> None:
    assert parse_metadata(header) == expected


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("filename !!!", "ERR_INVALID_METADATA"),
        ("filename YQ", "ERR_INVALID_METADATA"),  # missing padding
        ("filename  YQ==", "ERR_INVALID_METADATA"),
        ("filename YQ== extra", "ERR_INVALID_METADATA"),
        (",", "ERR_INVALID_METADATA"),
        ("filename YQ==,", "ERR_INVALID_METADATA"),
        (f"filename {_b64('a')},filename {_b64('b')}", "ERR_INVALID_METADATA"),
        ("filename //79", "ERR_INVALID_METADATA"),  # not UTF-8
        ("é YQ==", "ERR_INVALID_METADATA"),
        ("Filename YQ==", "ERR_METADATA_KEY_NOT_ALLOWED"),
        ("patient_name YQ==", "ERR_METADATA_KEY_NOT_ALLOWED"),
        (f"filename {_b64('x' * 1025)}", "ERR_METADATA_TOO_LARGE"),
        (",".join(f"reason {_b64('x' * 800)}" for _ in range(5)), "ERR_METADATA_TOO_LARGE"),
    ],
)
def test_rejects(header: str, code: str) -> None:
    with pytest.raises(TusError) as error:
        parse_metadata(header)
    assert error.value.code == code


def test_value_of_exactly_1024_bytes_is_fine() -> None:
    assert parse_metadata(f"reason {_b64('x' * 1024)}") == {"reason": "x" * 1024}


def test_rejection_names_the_key_but_never_a_value() -> None:
    with pytest.raises(TusError) as error:
        parse_metadata(f"filename {_b64('Jane Doe.mp4')},mrn {_b64('123456')}")
    assert "'mrn'" in error.value.message
    assert "123456" not in error.value.message and "Jane" not in error.value.message


def test_allow_list() -> None:
    assert ALLOWED_KEYS == {
        "filename",
        "filetype",
        "priority",
        "preset",
        "compressed",
        "original_size",
        "original_type",
        "reason",
        "engine",
        "bypass",
        "poster_for",
        "ssim",
        "crf",
        "probe_s",
        "bitrate",
        "stripped",
        "uplink_kbps",
        "arrival_s",
    }


def test_round_trip() -> None:
    metadata = {"filename": "a b,c.mp4", "bypass": "", "priority": "urgent"}
    assert parse_metadata(encode_metadata(metadata)) == metadata
