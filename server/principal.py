"""Who is asking: the one place a request becomes a `Principal`.

Today the only proof is the signed ``medpress_session`` cookie (dev mode). A
Bearer-token path slots into `resolve_principal` later without touching callers.
"""

from typing import Literal

import msgspec
from litestar import Request
from litestar.datastructures import Cookie

from server.session_cookie import (
    COOKIE_NAME,
    MAX_AGE_SECONDS,
    new_session_value,
    verified_session_id,
)


class Principal(msgspec.Struct, frozen=True):
    kind: Literal["session"]
    id: str

    @property
    def owner(self) -> str:
        """The string recorded as an upload's owner."""
        return f"{self.kind}:{self.id}"


class Principals:
    """Resolves principals for one server secret; provided to handlers as ``principals``."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def resolve_principal(self, request: Request) -> Principal | None:
        session_id = verified_session_id(request.cookies.get(COOKIE_NAME), self._secret)
        return Principal("session", session_id) if session_id else None

    def new_session_cookie(self) -> Cookie:
        return Cookie(
            key=COOKIE_NAME,
            value=new_session_value(self._secret),
            path="/",
            httponly=True,
            samesite="strict",
            max_age=MAX_AGE_SECONDS,
        )
