"""``configure_logging(settings)``: where ``medpress serve`` writes its logs, and how.

JSON lines (`JsonFormatter`) to stderr; or, with ``MEDPRESS_LOG_FILE``, to that file,
rotated when it reaches ``MEDPRESS_LOG_MAX_BYTES`` (default 10 MiB) and keeping
``MEDPRESS_LOG_BACKUPS`` old files (default 5: ``medpress.log.1`` … ``.5``). The root logger
takes ``MEDPRESS_LOG_LEVEL`` (default INFO). Every handler installed here carries
`ScrubFilter`, so no record reaches a stream or a file without being scrubbed.

The returned `LoggingSetup` undoes all this (``close()``, or use it as a context manager):
it flushes and closes the file and gives the root logger back its level and handlers.
"""

import logging
import logging.handlers
import sys
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from server.logs.json_format import JsonFormatter
from server.logs.scrub import ScrubFilter


class LogSettings(Protocol):
    """The part of `server.settings.Settings` this module reads."""

    @property
    def log_level(self) -> str: ...
    @property
    def log_file(self) -> Path | None: ...
    @property
    def log_max_bytes(self) -> int: ...
    @property
    def log_backups(self) -> int: ...


class LoggingSetup:
    def __init__(self, handler: logging.Handler, previous_level: int) -> None:
        self.handler = handler
        self._previous_level = previous_level

    def close(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self._previous_level)
        self.handler.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def configure_logging(settings: LogSettings) -> LoggingSetup:
    """Send every log record, scrubbed, as one JSON object per line to stderr or the log file."""
    handler = make_handler(settings)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "medpress", False):  # an earlier configure_logging: replace it
            root.removeHandler(existing)
            existing.close()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return LoggingSetup(handler, previous_level)


def make_handler(settings: LogSettings) -> logging.Handler:
    handler: logging.Handler
    if settings.log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            settings.log_file,
            maxBytes=settings.log_max_bytes,
            backupCount=settings.log_backups,
            encoding="utf-8",
        )
    handler.addFilter(ScrubFilter())
    handler.setFormatter(JsonFormatter())
    handler.medpress = True  # type: ignore[attr-defined]
    return handler
