"""Bearer tokens, signed with the server secret (pure: no framework imports).

``medpress token --user NAME [--case REF]`` mints one for a host system to hand
to a client. Format: ``mp1.<payload>.<signature>``, where the payload is the
base64url JSON of `TokenClaims` and the signature the base64url HMAC-SHA256 of
``b"medpress-token-v1:" + payload`` keyed with the secret. The case reference is
opaque: the server stores it with the upload and shows it to admins only.
"""

import base64
import binascii
import hashlib
import hmac
import time
from typing import Annotated

import msgspec

PREFIX = "mp1"
DEFAULT_TTL_SECONDS = 12 * 60 * 60
_CONTEXT = b"medpress-token-v1:"

UserName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
CaseRef = Annotated[str, msgspec.Meta(pattern=r"^[!-~]{1,128}$")]  # printable ASCII, no spaces


class TokenClaims(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    sub: UserName
    iat: int
    exp: int
    case: CaseRef | None = None
    admin: bool = False  # omitted unless set, so other tokens read as before


_encode_claims = msgspec.json.Encoder().encode
_decode_claims = msgspec.json.Decoder(TokenClaims).decode


class TokenError(ValueError):
    """A user name or case reference that cannot go into a token."""


def mint_token(
    secret: str,
    user: str,
    case: str | None = None,
    *,
    admin: bool = False,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    issued = int(time.time() if now is None else now)
    claims = TokenClaims(sub=user, iat=issued, exp=issued + ttl_seconds, case=case, admin=admin)
    try:  # validate through the decoder, so minting and verifying agree
        _decode_claims(_encode_claims(claims))
    except msgspec.ValidationError as error:
        raise TokenError(str(error)) from None
    payload = _b64(_encode_claims(claims))
    return f"{PREFIX}.{payload}.{_signature(secret, payload)}"


def verified_claims(token: str, secret: str, *, now: float | None = None) -> TokenClaims | None:
    """The claims of a valid, unexpired token, else ``None``."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or len(token) > 2048:
        return None
    _, payload, signature = parts
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        return None
    try:
        claims = _decode_claims(_unb64(payload))
    except (msgspec.DecodeError, binascii.Error, ValueError):
        return None
    if claims.exp <= (time.time() if now is None else now):
        return None
    return claims


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), _CONTEXT + payload.encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
