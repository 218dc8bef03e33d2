"""Who is asking: the one place a request becomes a `Principal`.

Two proofs, both signed with the server secret:
- ``Authorization: Bearer <token>`` (`server.auth.tokens`), minted for a user by
  ``medpress token``, optionally carrying a case reference;
- the ``medpress_session`` cookie the page sets (dev mode only, the default, so
  the demo works with no set-up).

A request that sends an ``Authorization`` header is judged by it alone: a bad
token is no principal, never a fallback to the cookie.
"""

from typing import Literal

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from server.auth.session_cookie import (
    COOKIE_NAME,
    MAX_AGE_SECONDS,
    new_session_value,
    verified_session_id,
)
from server.auth.tokens import verified_claims

AuthMode = Literal["dev", "token"]


class Principal(msgspec.Struct, frozen=True):
    kind: Literal["session", "user"]
    id: str
    case_ref: str | None = None  # from a token; stored with uploads, never logged
    admin: bool = False  # may read the audit trail (a token minted with --admin)

    @property
    def owner(self) -> str:
        """The string recorded as an upload's owner."""
        return f"{self.kind}:{self.id}"


class Principals:
    """Resolves principals for one server secret; provided to handlers as ``principals``."""

    def __init__(self, secret: str, mode: AuthMode = "dev", *, secure_cookie: bool = False) -> None:
        self._secret = secret
        self.mode = mode
        self._secure_cookie = secure_cookie  # behind HTTPS: the cookie never travels in clear

    def resolve_principal(self, connection: ASGIConnection) -> Principal | None:
        authorization = connection.headers.getall("authorization", [])
        if authorization:
            return self._from_bearer(authorization)
        if self.mode != "dev":
            return None
        session_id = verified_session_id(connection.cookies.get(COOKIE_NAME), self._secret)
        return Principal("session", session_id) if session_id else None

    def new_session_cookie(self) -> Cookie:
        return Cookie(
            key=COOKIE_NAME,
            value=new_session_value(self._secret),
            path="/",
            httponly=True,
            secure=self._secure_cookie,
            samesite="strict",
            max_age=MAX_AGE_SECONDS,
        )

    def _from_bearer(self, values: list[str]) -> Principal | None:
        if len(values) != 1:
            return None
        scheme, _, token = values[0].strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        claims = verified_claims(token.strip(), self._secret)
        return Principal("user", claims.sub, claims.case, claims.admin) if claims else None
