"""Bearer tokens (pure): mint, verify, expire, refuse forgeries."""

import pytest

from server.auth.tokens import TokenError, mint_token, verified_claims

SECRET = "t" * 32


def test_round_trip() -> None:
    token = mint_token(SECRET, "dr.jones@ward-7", "CASE/2024-001", ttl_seconds=60, now=1000)
    claims = verified_claims(token, SECRET, now=1059)
    assert claims is not None
    assert (claims.sub, claims.case, claims.iat, claims.exp) == (
        "dr.jones@ward-7",
        "CASE/2024-001",
        1000,
        1060,
    )
    assert token.startswith("mp1.") and " " not in token


def test_case_is_optional() -> None:
    claims = verified_claims(mint_token(SECRET, "alice"), SECRET)
    assert claims is not None and claims.case is None


def test_expired_token_is_refused() -> None:
    token = mint_token(SECRET, "alice", ttl_seconds=60, now=1000)
    assert verified_claims(token, SECRET, now=1060) is None


def test_other_secret_is_refused() -> None:
    assert verified_claims(mint_token(SECRET, "alice"), "u" * 32) is None


def test_tampered_payload_is_refused() -> None:
    prefix, payload, signature = mint_token(SECRET, "alice").split(".")
    other_payload = mint_token(SECRET, "mallory").split(".")[1]
    assert verified_claims(f"{prefix}.{other_payload}.{signature}", SECRET) is None
    assert verified_claims(f"{prefix}.{payload}.{signature[:-2]}", SECRET) is None


@pytest.mark.parametrize(
    "token", ["", "mp1", "mp1..", "mp2.a.b", "a.b.c.d", "mp1.!!!.???", "x" * 5000]
)
def test_garbage_is_refused(token: str) -> None:
    assert verified_claims(token, SECRET) is None


@pytest.mark.parametrize(
    ("user", "case"),
    [
        ("", None),
        ("a b", None),
        ("-lead", None),
        ("x" * 65, None),
        ("alice", "has space"),
        ("alice", ""),
        ("alice", "é"),
    ],
)
def test_bad_names_cannot_be_minted(user: str, case: str | None) -> None:
    with pytest.raises(TokenError):
        mint_token(SECRET, user, case)
