"""``X-HTTP-Method-Override``: a POST that says it is a PATCH or DELETE is routed as one.

For clients behind proxies or browsers that cannot send PATCH/DELETE (tus-js-client's
``overridePatchMethod``). It wraps the whole app, so routing sees the real method.
"""

from litestar.types import ASGIApp, Receive, Scope, Send

HEADER = b"x-http-method-override"
OVERRIDABLE = frozenset({"PATCH", "DELETE"})


def method_override(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            values = [value for name, value in scope["headers"] if name.lower() == HEADER]
            target = values[0].decode("latin-1").strip().upper() if len(values) == 1 else ""
            if target in OVERRIDABLE:
                scope = {**scope, "method": target}  # type: ignore[typeddict-item]
        await app(scope, receive, send)

    return handle
