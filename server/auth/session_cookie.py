"""The dev-mode session cookie, signed with the server secret (pure: no framework imports).

Value: ``<session id>.<signature>``, where the session id is 32 hex characters
from ``secrets.token_hex(16)`` and the signature is the hex HMAC-SHA256 of
``b"medpress-session-v1:" + session id`` keyed with the secret (64 hex characters).
"""

import hashlib
import hmac
import re
import secrets

COOKIE_NAME = "medpress_session"
MAX_AGE_SECONDS = 30 * 24 * 60 * 60
_VALUE = re.compile(r"([0-9a-f]{32})\.([0-9a-f]{64})")
_CONTEXT = b"medpress-session-v1:"


def new_session_value(secret: str) -> str:
    session_id = secrets.token_hex(16)
    return f"{session_id}.{_signature(secret, session_id)}"


def verified_session_id(value: str | None, secret: str) -> str | None:
    """The session id inside ``value`` if its signature is valid, else ``None``."""
    match = _VALUE.fullmatch(value or "")
    if match is None:
        return None
    session_id, signature = match.groups()
    if not hmac.compare_digest(signature, _signature(secret, session_id)):
        return None
    return session_id


def _signature(secret: str, session_id: str) -> str:
    return hmac.new(secret.encode(), _CONTEXT + session_id.encode(), hashlib.sha256).hexdigest()
