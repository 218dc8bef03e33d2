"""The page: element lookup, reading the form, and the status view."""

from __future__ import annotations

from typing import Any

import js

from client.browser.bridge import glue, js_object, persistent
from client.core import messages
from client.core.media import FileFacts
from client.core.planner import PRIORITIES, Priority
from client.core.presets import DEFAULT_PRESET, PRESETS
from client.core.progress import Status


def element(test_id: str) -> Any:
    return js.document.querySelector(f'[data-testid="{test_id}"]')


def selected_files() -> list[Any]:
    files = element("file-input").files
    return [files.item(i) for i in range(files.length)]


def facts_of(file: Any) -> FileFacts:
    return FileFacts(name=str(file.name), size=int(file.size), mime=str(file.type or ""))


def priority() -> Priority:
    value = str(element("priority").value)
    return value if value in PRIORITIES else "routine"  # type: ignore[return-value]


def preset() -> str:
    value = str(element("preset").value)
    return value if value in PRESETS else DEFAULT_PRESET


def ready_status() -> Status:
    return Status(state="ready", message=messages.READY)


def choose_file_status() -> Status:
    return Status(state="error", message=messages.CHOOSE_FILE)


_language_listener: Any = None


def follow_language() -> None:
    """Messages in the page's language: ``<html lang>`` now and after each change, which
    ``public/js/i18n.js`` announces with a ``medpress:language`` event on document."""
    global _language_listener

    def update(_event: object = None) -> None:
        messages.set_language(str(js.document.documentElement.lang or ""))

    update()
    if _language_listener is None:
        _language_listener = persistent(update)
        js.document.addEventListener("medpress:language", _language_listener)


class DomView:
    """StatusView that writes through ``public/js/status.js``, in the page's language."""

    def __init__(self) -> None:
        follow_language()

    def show(self, status: Status) -> None:
        glue.showStatus(js_object({
            "state": status.state,
            "message": status.message,
            "percent": status.percent,
            "uploadUrl": status.upload_url,
            "posterUrl": status.poster_url,
        }))
