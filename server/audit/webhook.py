"""Telling staff about an emergency bypass: a JSON POST to a webhook the operator configures.

Sent in the background (the clinician's upload never waits for it), retried a few times
with back-off; the body holds the audit entry only (no file name, no metadata).
"""

import json
import logging
import urllib.request
from collections.abc import Awaitable, Callable

import anyio
import anyio.to_thread

from server.audit.trail import AuditEntry
from server.background import spawn

log = logging.getLogger("medpress.audit")
ATTEMPTS = 4
TIMEOUT_SECONDS = 5.0


def webhook_notifier(url: str) -> Callable[[AuditEntry], Awaitable[None]]:
    async def notify(entry: AuditEntry) -> None:
        spawn(_deliver(url, entry))

    return notify


async def _deliver(url: str, entry: AuditEntry) -> None:
    body = json.dumps(
        {
            "event": "emergency-bypass",
            "at": entry.at,
            "principal": entry.principal,
            "upload_id": entry.upload_id,
            "reason": entry.reason,
            "size": entry.size,
        }
    ).encode()
    for attempt in range(ATTEMPTS):
        try:
            await anyio.to_thread.run_sync(_post, url, body)
            log.info("emergency bypass notified upload=%s", entry.upload_id)
            return
        except OSError as error:
            log.warning(
                "emergency bypass webhook failed upload=%s attempt=%d error=%s",
                entry.upload_id,
                attempt + 1,
                type(error).__name__,
            )
            await anyio.sleep(2**attempt)


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()
