"""One JSON object per line, with the request a line belongs to.

Keys, in this order: ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``,
``message``; then, when known, ``request_id``, ``method``, ``route`` (the route template,
``/files/{upload_id:str}``, never the raw path), ``status``, ``duration_ms``, ``upload_id``;
and ``exception`` (type names and frames only) when the record carries one.

``status`` and ``duration_ms`` come with the access line; the others from the request
context (`server.logs.context`), or from the record itself (``extra={"upload_id": …}``).
A line outside any request that names an upload (``upload removed id=…``) carries its id too.
"""

import logging
import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from server.logs import context
from server.logs.scrub import ScrubFilter

_encode = msgspec.json.Encoder().encode
_UPLOAD_ID_IN_MESSAGE = re.compile(r"\b(?:id|upload|upload_id)=([0-9a-f]{32})\b")
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_METHOD = re.compile(r"[A-Z]{1,16}")
_ROUTE = re.compile(r"/[\w/{}:.-]{0,200}")


def _matches(pattern: re.Pattern[str]) -> Any:
    return lambda value: isinstance(value, str) and pattern.fullmatch(value) is not None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# What each request field may hold: anything else (an ``extra=`` value from a careless
# caller, say) is left out rather than written unscrubbed.
_REQUEST_FIELDS = {
    "request_id": _matches(_TOKEN),
    "method": _matches(_METHOD),
    "route": _matches(_ROUTE),
    "status": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "duration_ms": _number,
    "upload_id": _matches(_UPLOAD_ID),
}


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._scrub = ScrubFilter()

    def format(self, record: logging.LogRecord) -> str:
        self._scrub.filter(record)  # a no-op when the handler's filter has already run
        message = record.getMessage()
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        active = context.current()
        known = {
            "request_id": active.request_id if active else None,
            "method": active.method if active else None,
            "route": active.route if active else None,
            "upload_id": active.upload_id if active else None,
        }
        for key, valid in _REQUEST_FIELDS.items():
            value = getattr(record, key, None)
            if value is None:
                value = known.get(key)
            if value is None and key == "upload_id":
                found = _UPLOAD_ID_IN_MESSAGE.search(message)
                value = found[1] if found else None
            if value is not None and valid(value):
                line[key] = value
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return _encode(line).decode()


def _iso_time(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
