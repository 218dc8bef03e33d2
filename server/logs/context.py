"""The request a log line belongs to, carried in a contextvar.

`server.logs.middleware` sets a `RequestContext` for each HTTP request; every log line written
while the request runs (in its task, the tasks it starts and the worker threads it calls)
carries its request id, method, route template and upload id. It also holds the values this
request brought that must never reach a log (decoded ``Upload-Metadata`` values, the token's
case reference), which the scrubber removes wherever they turn up.
"""

import re
from contextvars import ContextVar
from typing import Any

_CURRENT: ContextVar["RequestContext | None"] = ContextVar("medpress_request", default=None)

# Shorter values would match too much of an ordinary line (offsets, sizes, words).
MIN_SENSITIVE_LENGTH = 3


class RequestContext:
    __slots__ = ("_pattern", "method", "request_id", "scope", "sensitive", "upload_id")

    def __init__(
        self, request_id: str, method: str, scope: Any = None, upload_id: str | None = None
    ) -> None:
        self.request_id = request_id
        self.method = method
        self.scope = scope  # the ASGI scope: routing writes the route template into it
        self.upload_id = upload_id
        self.sensitive: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    @property
    def route(self) -> str | None:
        """The route template (``/files/{upload_id:str}``) once routing has matched one."""
        if self.scope is None:
            return None
        template = self.scope.get("path_template")
        return template if isinstance(template, str) else None

    def add_sensitive(self, value: str) -> None:
        value = value.strip()
        if len(value) >= MIN_SENSITIVE_LENGTH and value not in self.sensitive:
            self.sensitive.add(value)
            self._pattern = None

    def sensitive_pattern(self) -> re.Pattern[str] | None:
        """One pattern matching any sensitive value as a whole (not inside a longer word)."""
        if not self.sensitive:
            return None
        if self._pattern is None:
            values = sorted(self.sensitive, key=len, reverse=True)
            alternatives = "|".join(re.escape(value) for value in values)
            self._pattern = re.compile(rf"(?<![\w+/]){alternatives}(?![\w+/])")
        return self._pattern


def current() -> RequestContext | None:
    return _CURRENT.get()


def enter(context: RequestContext) -> object:
    """Make ``context`` current; pass what this returns to `leave`."""
    return _CURRENT.set(context)


def leave(token: object) -> None:
    _CURRENT.reset(token)  # type: ignore[arg-type]
