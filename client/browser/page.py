"""The page: element lookup, reading the form, and the status view."""

from __future__ import annotations

from typing import Any

import js

from client.browser.bridge import glue, js_object
from client.core.media import FileFacts
from client.core.planner import PRIORITIES, Priority
from client.core.presets import DEFAULT_PRESET, PRESETS
from client.core.progress import Status


def element(test_id: str) -> Any:
    return js.document.querySelector(f'[data-testid="{test_id}"]')


def selected_file() -> Any | None:
    files = element("file-input").files
    return files.item(0) if files.length else None


def facts_of(file: Any) -> FileFacts:
    return FileFacts(name=str(file.name), size=int(file.size), mime=str(file.type or ""))


def priority() -> Priority:
    value = str(element("priority").value)
    return value if value in PRIORITIES else "routine"  # type: ignore[return-value]


def preset() -> str:
    value = str(element("preset").value)
    return value if value in PRESETS else DEFAULT_PRESET


def bypassed(file: Any | None) -> bool:
    """Whether "Send original now" took this file over (then Python leaves it alone)."""
    return file is not None and bool(glue.isBypassed(file))


def set_busy(busy: bool) -> None:
    """While a file is being compressed or sent: Start off, Cancel on."""
    element("start").disabled = busy
    element("cancel").disabled = not busy


def is_busy() -> bool:
    return not bool(element("cancel").disabled)


class DomView:
    """StatusView that writes through ``public/js/status.js``; can be muted when the
    bypass takes over the page for the current file."""

    def __init__(self) -> None:
        self.muted = False

    def show(self, status: Status) -> None:
        if self.muted:
            return
        glue.showStatus(js_object({
            "state": status.state,
            "message": status.message,
            "percent": status.percent,
            "uploadUrl": status.upload_url,
            "posterUrl": status.poster_url,
        }))
