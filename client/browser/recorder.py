"""Analytics events from this page: the fields every event shares (when, the anonymous
installation, the device class, the clinical specialty, the UI variant) are added here, each
event is checked against its type before it leaves (one bad event must not cost a batch),
and ``wasm/src/analytics.js`` sends them in batches."""

from __future__ import annotations

from typing import Any

import js
import msgspec

from client.browser.bridge import glue
from client.core import events

_check = msgspec.json.Decoder(events.AnyEvent).decode


class Recorder:
    def __init__(self, installation: str, device_class: str, specialty: str) -> None:
        self.common = {"installation": installation, "device_class": device_class, "specialty": specialty}
        self.variant: str | None = None
        self.exposed: set[tuple[str, str]] = set()

    def __call__(self, kind: type[events.Event], **fields: Any) -> None:
        event = kind(at=float(js.Date.now()) / 1000, variant=self.variant, **self.common, **fields)
        data = events.encode(event)
        try:
            _check(data)
        except msgspec.ValidationError as error:
            js.console.warn("medpress: analytics event dropped:", kind.__name__, str(error).split(" - at ")[-1])
            return
        glue.recordEvent(data.decode())

    def exposure(self, flag: str, variant: str, enabled: bool) -> None:
        """Once per page and flag variant: which arm of an experiment this page is in."""
        if (flag, variant) not in self.exposed:
            self.exposed.add((flag, variant))
            self(events.FlagExposure, flag=flag, variant_name=variant, enabled=enabled)


def specialty_from(query: str) -> str:
    """``?specialty=`` when it is one of the enumerated specialties, else "unspecified"."""
    from urllib.parse import parse_qs

    found = (parse_qs(query.lstrip("?")).get("specialty") or ["unspecified"])[0]
    return found if found in events.SPECIALTIES else "unspecified"
