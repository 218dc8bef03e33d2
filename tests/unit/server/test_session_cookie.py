"""Signed session cookie values (pure)."""

import re

from server.auth.session_cookie import COOKIE_NAME, new_session_value, verified_session_id

SECRET = "s" * 32


def test_format() -> None:
    assert COOKIE_NAME == "medpress_session"
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{64}", new_session_value(SECRET))


def test_round_trip_and_uniqueness() -> None:
    first, second = new_session_value(SECRET), new_session_value(SECRET)
    assert first != second
    assert verified_session_id(first, SECRET) == first.split(".")[0]


def test_rejects_forgeries() -> None:
    value = new_session_value(SECRET)
    session_id, signature = value.split(".")
    other_id = ("0" if session_id[0] != "0" else "1") + session_id[1:]
    for forged in [
        None,
        "",
        session_id,
        f"{other_id}.{signature}",
        f"{session_id}.{'0' * 64}",
        value.upper(),
        value + "0",
        f" {value}",
    ]:
        assert verified_session_id(forged, SECRET) is None, forged
    assert verified_session_id(value, "another-secret-entirely") is None


def test_the_cookie_is_secure_only_behind_https() -> None:
    from server.auth.principal import Principals

    plain = Principals("s" * 32).new_session_cookie().to_header()
    secure = Principals("s" * 32, secure_cookie=True).new_session_cookie().to_header()
    attributes = [part.strip().lower() for part in plain.split(";")]
    assert "secure" not in attributes and "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "secure" in [part.strip().lower() for part in secure.split(";")]
