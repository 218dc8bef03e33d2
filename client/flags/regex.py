"""The REGEX constraint operator's dialect on Python's ``re``.

Unleash evaluates REGEX with an RE2-style engine (Rust's ``regex``): no look-around, no
back-references, POSIX classes such as ``[[:alpha:]]``, ``$`` only at the very end, and
inline flags such as ``(?i)`` anywhere, acting until the end of their group. Python's
``re`` differs on each point, so a pattern is translated first; a pattern the dialect
rejects (or that Python cannot express) is invalid, and an invalid pattern matches nothing.
Not translated (so invalid here, though Rust accepts them): ``\\p{…}`` Unicode classes,
negated POSIX classes (``[[:^alpha:]]``), nested or set-operation classes
(``[a-z&&[^aeiou]]``) and the ``U``, ``R`` and ``u`` flags.
"""

from __future__ import annotations

import re
from functools import lru_cache

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}
_REJECTED_GROUPS = ("(?=", "(?!", "(?<=", "(?<!", "(?>", "(?P=", "(?#", "(?(")
_FLAGS = set("imsx-")


class _Invalid(Exception):
    """The pattern is not valid in Unleash's regex dialect."""


@lru_cache(maxsize=256)
def compile_pattern(pattern: str, ignore_case: bool = False) -> re.Pattern | None:
    """``pattern`` compiled for Python's ``re``, or None if it is invalid in the dialect."""
    try:
        return re.compile(_translate(pattern), re.IGNORECASE if ignore_case else 0)
    except (_Invalid, re.error, OverflowError, RecursionError):
        return None


def _translate(pattern: str) -> str:
    """Python source for ``pattern``, or raise _Invalid."""
    out: list[str] = []
    # One frame per open group: its multiline state and the inline flags opened inside it.
    frames: list[dict] = [{"multiline": False, "inline": []}]
    i = 0
    while i < len(pattern):
        c = pattern[i]
        frame = frames[-1]
        if c == "\\":
            piece, i = _escape(pattern, i)
            out.append(piece)
            continue
        if c == "[":
            piece, i = _char_class(pattern, i)
            out.append(piece)
            continue
        if c == "(":
            i = _open_group(pattern, i, frames, out)
            continue
        if c == "|":
            out.append(")" * len(frame["inline"]) + "|" + "".join(frame["inline"]))
        elif c == ")":
            if len(frames) == 1:
                raise _Invalid("unbalanced parenthesis")
            out.append(")" * len(frame["inline"]) + ")")
            frames.pop()
        elif c == "$":
            out.append("$" if frame["multiline"] else r"\Z")
        elif c in "*+?}" and pattern.startswith("+", i + 1):
            raise _Invalid("possessive quantifier")
        else:
            out.append(c)
        i += 1
    if len(frames) != 1:
        raise _Invalid("unbalanced parenthesis")
    out.append(")" * len(frames[0]["inline"]))
    return "".join(out)


def _open_group(pattern: str, i: int, frames: list[dict], out: list[str]) -> int:
    """Translate the group opening at ``i``; return the index after it."""
    frame = frames[-1]
    if pattern.startswith(_REJECTED_GROUPS, i):
        raise _Invalid("look-around, atomic group or back-reference")
    if not pattern.startswith("(?", i) or pattern.startswith(("(?:", "(?P<"), i):
        frames.append({"multiline": frame["multiline"], "inline": []})
        out.append("(")
        return i + 1
    if pattern.startswith("(?<", i):  # (?<name>…) is Python's (?P<name>…)
        frames.append({"multiline": frame["multiline"], "inline": []})
        out.append("(?P<")
        return i + 3
    end = i + 2
    while end < len(pattern) and pattern[end] in _FLAGS:
        end += 1
    flags = pattern[i + 2:end]
    if end >= len(pattern) or pattern[end] not in ":)" or not flags:
        raise _Invalid("unsupported group or flag")
    on, _, off = flags.partition("-")
    multiline = ("m" in on) or (frame["multiline"] and "m" not in off)
    opening = f"(?{flags}:"
    if pattern[end] == ":":  # (?flags:…) is a group of its own
        frames.append({"multiline": multiline, "inline": []})
    else:  # (?flags) acts until the end of the enclosing group
        frame["multiline"] = multiline
        frame["inline"].append(opening)
    out.append(opening)
    return end + 1


def _escape(pattern: str, i: int) -> tuple[str, int]:
    """Translate the escape at ``i``; return it and the index after it."""
    if i + 1 >= len(pattern):
        raise _Invalid("trailing backslash")
    c = pattern[i + 1]
    if c.isdigit():
        raise _Invalid("back-reference")
    if c == "z":
        return r"\Z", i + 2
    if c == "x" and pattern.startswith("{", i + 2):
        end = pattern.find("}", i + 3)
        if end < 0:
            raise _Invalid("unterminated \\x{…}")
        return f"\\U{int(pattern[i + 3:end], 16):08x}", end + 1
    return pattern[i:i + 2], i + 2


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """Translate the character class opening at ``i``; return it and the index after it."""
    j = i + 1
    parts = ["["]
    if pattern.startswith("^", j):
        parts.append("^")
        j += 1
    first = True
    while j < len(pattern):
        c = pattern[j]
        if c == "]" and not first:
            parts.append("]")
            return "".join(parts), j + 1
        first = False
        if c == "\\":
            piece, j = _escape(pattern, j)
            parts.append(piece)
        elif pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            name = pattern[j + 2:end] if end > 0 else ""
            if name not in _POSIX:
                raise _Invalid("unknown POSIX class")
            parts.append(_POSIX[name])
            j = end + 2
        elif c == "[" or pattern.startswith(("&&", "--", "~~"), j):
            raise _Invalid("nested or set-operation class")
        elif c in "|&~":
            parts.append("\\" + c)  # literal here; Python would warn of future set operations
            j += 1
        else:
            parts.append(c)
            j += 1
    raise _Invalid("unterminated character class")
