"""How fast this device can send to the server: its uplink, from its own recent uploads.

Pure. The page's tus client (``public/js/upload.js``) times every PATCH: the bytes the
server acknowledged over the seconds from request to response. ``uplink`` turns the recent
ones into one figure. Without enough of them it takes the browser's own estimate
(``navigator.connection.downlink``) only when that says the link is slow: it is a download
figure, about the path to the internet (Chromium ignores traffic to local and private
hosts, where a hospital's server usually is), and a browser with nothing to go on reports a
default. Otherwise it assumes a fair ward Wi-Fi.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

ASSUMED_BPS = 10e6  # nothing measured yet: a fair ward Wi-Fi
SLOW_BROWSER_BPS = 1e6  # below this, the browser's own figure is believed
RECENT_S = 600.0  # older samples no longer describe the link (the device may have moved)
MAX_SAMPLES = 8
MIN_BYTES = 256_000  # below this, requests measure latency more than throughput


class Sample(msgspec.Struct, frozen=True):
    """One PATCH: ``sent`` bytes acknowledged in ``seconds``, ending at ``at`` (page clock)."""

    sent: int
    seconds: float
    at: float


class Uplink(msgspec.Struct, frozen=True):
    bps: float  # bits per second
    source: Literal["measured", "browser", "assumed"]

    @property
    def kbps(self) -> int:
        return round(self.bps / 1000)


ASSUMED = Uplink(bps=ASSUMED_BPS, source="assumed")


def uplink(samples: Iterable[Sample], now: float, browser_mbps: float | None = None) -> Uplink:
    """The uplink from the newest recent samples (bytes over seconds, so a large PATCH
    counts for more than a small one), else the browser's figure if slow, else assumed."""
    recent = [s for s in samples if 0 <= now - s.at <= RECENT_S and s.seconds > 0][-MAX_SAMPLES:]
    sent = sum(s.sent for s in recent)
    if sent >= MIN_BYTES:
        return Uplink(bps=8 * sent / sum(s.seconds for s in recent), source="measured")
    if browser_mbps is not None and 0 < browser_mbps * 1e6 < SLOW_BROWSER_BPS:
        return Uplink(bps=browser_mbps * 1e6, source="browser")
    return ASSUMED
