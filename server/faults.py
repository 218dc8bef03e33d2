"""Fault points for the failure-injection tests; inert unless switched on.

``MEDPRESS_FAULTS`` (read once, when the app is built) names the faults to
arm, each optionally with how many times it fires (default once):
``MEDPRESS_FAULTS=kill-before-finish`` or ``s3-complete-error:2``.

- ``kill-before-finish``: SIGKILL the server after the last byte of an upload is
  durable and recorded, before it is finished.
- ``kill-after-complete``: SIGKILL after S3's CompleteMultipartUpload succeeded,
  before the registry recorded it.
- ``s3-complete-error``: CompleteMultipartUpload answers an error.

Never set it in production: it exists so tests can prove nothing is lost.
"""

import logging
import os
import signal
from typing import Any

log = logging.getLogger("medpress.faults")

KNOWN = frozenset({"kill-before-finish", "kill-after-complete", "s3-complete-error"})
_armed: dict[str, int] = {}


class FaultSpecError(ValueError):
    """MEDPRESS_FAULTS names a fault that does not exist."""


def parse(spec: str) -> dict[str, int]:
    armed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, count = item.partition(":")
        if name not in KNOWN or (count and not count.isdigit()):
            raise FaultSpecError(
                f"MEDPRESS_FAULTS: {item!r} is not one of {', '.join(sorted(KNOWN))}[:count]."
            )
        armed[name] = int(count) if count else 1
    return armed


def arm(armed: dict[str, int]) -> None:
    _armed.clear()
    _armed.update(armed)
    if armed:
        log.warning("fault injection armed: %s", ", ".join(sorted(armed)))


def trip(name: str) -> bool:
    """True (once per arming) if ``name`` is armed; a kill fault kills the process here."""
    if _armed.get(name, 0) <= 0:
        return False
    _armed[name] -= 1
    log.warning("fault injected: %s", name)
    if name.startswith("kill-"):
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)
    return True


def injected_client_error(operation: str) -> Any:
    """What boto3 raises when S3 answers an error (500 InternalError)."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "InternalError", "Message": "injected fault"}}, operation)
