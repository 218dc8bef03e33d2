"""Semantic versions (semver.org 2.0.0) for the SEMVER_* constraint operators.

Strict, as Unleash is: ``1.2.3``, ``2.0.0-alpha.1``, ``1.0.0+build`` parse; ``v1.2.3``,
``1.2`` or ``01.2.3`` do not. Build metadata plays no part in ordering.
"""

from __future__ import annotations

import re

_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)


def version_key(text: str) -> tuple | None:
    """A sort key that orders versions by semver precedence, or None if ``text`` is no semver."""
    match = _SEMVER.fullmatch(text)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    if pre is None:
        return (int(major), int(minor), int(patch), 1, ())  # a release outranks its pre-releases
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0, identifiers)
