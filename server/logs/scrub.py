"""What may reach a log line or an analytics event: the one place that decides.

Anything that could be patient data is replaced by a marker before a line is written or an
event sent. `ScrubFilter` sits on every handler `server.logs.setup` installs (and
`JsonFormatter` applies it to any record that has not been through it), so a log call
anywhere in the server cannot bypass it; analytics code calls `scrub_text` / `scrub_value`.

Survives (what an operator needs to trace a request):
  upload ids (32 hex digits) and other hex ids, numbers, sizes, offsets and durations,
  HTTP methods and status codes, route templates (``/files/{upload_id:str}``), URLs and
  paths without a media or document file name, enum-like words and codes
  (``dev``, ``sqlite``, ``InvalidFlags``), exception type names, the developer's own
  message text (the ``%``-format string of a log call).

Redacted:
  ``[file]``      a file name with a media or document extension (``.mp4``, ``.jpg``,
                  ``.pdf``…), with its directory; as an argument of a log call, the whole
                  argument (so ``Maria Silva 4471.mp4`` goes whole, spaces and all);
  ``[email]``     anything shaped like an e-mail address;
  ``[token]``     Bearer tokens (``mp1.…``) and base64url JSON (``eyJ…``);
  ``[redacted]``  quoted strings (unless they hold only an id, a number or a route template),
                  the value after ``case=`` / ``case_ref:`` / ``"case":``, ``Upload-Metadata``
                  header values, base64 text (a tus metadata value), and any value this
                  request's own metadata or token case carried, wherever it appears;
  ``[text]``      free text passed as an argument: two or more words, or over 200 characters
                  (a name, a note, an error's detail);
  exceptions      keep their type names and frames (code locations); their messages, which
                  may quote data, become ``[redacted]``; an exception passed as an argument
                  becomes its type name.
"""

import base64
import binascii
import enum
import logging
import re
import traceback
from collections.abc import Mapping
from pathlib import PurePath
from types import TracebackType

from server.logs import context

REDACTED = "[redacted]"
FILE = "[file]"
EMAIL = "[email]"
TOKEN = "[token]"
TEXT = "[text]"
MAX_ARGUMENT_LENGTH = 200
_MARKERS = frozenset(("", REDACTED, FILE, EMAIL, TOKEN, TEXT))

_VIDEO = "mp4 m4v mov avi mkv webm wmv flv 3gp 3g2 mpg mpeg mts m2ts ogv mxf vob hevc h264"
_IMAGE = "jpg jpeg jpe jfif png gif heic heif avif webp tif tiff bmp dcm dicom nii dng cr2 nef arw"
_AUDIO = "wav mp3 m4a aac ogg oga opus flac amr wma"
_DOCUMENT = "pdf doc docx odt rtf txt xls xlsx ods csv ppt pptx odp eml zip 7z rar"
MEDIA_EXTENSIONS = frozenset(f"{_VIDEO} {_IMAGE} {_AUDIO} {_DOCUMENT}".split(" "))
_EXTENSION = "|".join(sorted(MEDIA_EXTENSIONS, key=len, reverse=True))

_BEARER = re.compile(r"(?i)\b(bearer)\s+\S+")
_MEDPRESS_TOKEN = re.compile(r"\bmp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_JSON_BASE64 = re.compile(r"\beyJ[A-Za-z0-9_=-]{6,}")
_METADATA_HEADER = re.compile(r"(?i)\b(upload-metadata)([\"']?\s*[:=]\s*)[^\n]*")
_CASE = re.compile(
    r"(?i)\b(case(?:[_-]?ref(?:erence)?)?)"  # case, case_ref, caseRef, case-reference
    r"([\"']?\s*[:=]\s*)"
    r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;)\]}]+)"
)
_QUOTED = re.compile(r"(?<![\w\\])([\"'])(.*?)(?<!\\)\1(?!\w)(\s*:)?")
_KEY = re.compile(r"[A-Za-z_][\w.-]{0,63}")
_EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# After "key=" or "key: ", a file name may have spaces in it: up to its extension.
_KEYED_FILE = re.compile(rf"(?i)(=|:[ \t])([^=\n()\[\],;'\"]*?\.(?:{_EXTENSION}))(?![\w])")
_FILE = re.compile(rf"(?i)[^\s'\"()\[\],;=]*\.(?:{_EXTENSION})(?![\w])")
_HAS_EXTENSION = re.compile(rf"(?i)\.(?:{_EXTENSION})(?![\w])")
_BASE64 = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/]{4,}={0,2}(?![\w+/=-])")

_HEX = re.compile(r"[0-9a-fA-F]+")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_ROUTE = re.compile(r"(/[\w.-]*|/\{\w+(:\w+)?\})+")
_WORD = re.compile(r"(?<!\S)[^\W\d_]{2,}[.,;:!?]?(?!\S)")
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_FRAME = re.compile(r'  File "[^"\n]+\.py", line \d+, in [\w<>.]+')
_LINKS = ("The above exception", "During handling of")
_TYPE_NAME = re.compile(r"[A-Z]\w*(Error|Exception|Warning|Timeout|Exit|Interrupt|Group)")


def scrub_text(text: str) -> str:
    """``text`` with everything that could name a patient replaced by a marker."""
    active = context.current()
    pattern = active.sensitive_pattern() if active is not None else None
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    lowered = text.lower()  # cheap tests first: most lines need few of the patterns below
    if "mp1." in text:
        text = _MEDPRESS_TOKEN.sub(TOKEN, text)
    if "bearer" in lowered:
        text = _BEARER.sub(lambda match: f"{match[1]} {TOKEN}", text)
    if "eyJ" in text:
        text = _JSON_BASE64.sub(TOKEN, text)
    if "upload-metadata" in lowered:
        text = _METADATA_HEADER.sub(lambda match: f"{match[1]}{match[2]}{REDACTED}", text)
    if "case" in lowered:
        text = _CASE.sub(lambda match: f"{match[1]}{match[2]}{REDACTED}", text)
    if "'" in text or '"' in text:
        text = _QUOTED.sub(_quoted, text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL, text)
    if _HAS_EXTENSION.search(text):
        text = _KEYED_FILE.sub(lambda match: f"{match[1]}{FILE}", text)
        text = _FILE.sub(FILE, text)
    return _BASE64.sub(_base64, text)


def scrub_value(value: object) -> object:
    """A log call's argument (or an analytics field) made safe: numbers, booleans and
    enumerations as they are, an exception as its type name, text through `scrub_text`
    unless it is free text or holds a file name (then all of it goes)."""
    if value is None or isinstance(value, bool | int | float | enum.Enum):
        return value
    if isinstance(value, BaseException):
        return type(value).__name__
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, bytes | bytearray | memoryview):
        return f"[{len(value)} bytes]"
    text = str(value) if isinstance(value, str | PurePath) else repr(value)
    if _HAS_EXTENSION.search(text):
        return FILE
    if len(text) > MAX_ARGUMENT_LENGTH or len(_WORD.findall(text)) >= 2:
        return TEXT
    return scrub_text(text)


def scrub_exception(
    kind: type[BaseException] | None,
    error: BaseException | None,
    trace: TracebackType | None,
) -> str:
    """A traceback with its frames and exception type names, but no exception message."""
    if error is None:
        return "" if kind is None else _exception_line(kind, None)
    chain: list[tuple[BaseException, str | None]] = []  # newest first, with its link
    seen: set[int] = set()
    current: BaseException | None = error
    link: str | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for exception, link in reversed(chain):
        frames = trace if exception is error else exception.__traceback__
        if frames is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(traceback.extract_tb(frames)))
        lines.append(_exception_line(type(exception), exception))
        if link is not None:
            lines.append(link)
    return "".join(lines).rstrip("\n")


def scrub_exception_text(text: str) -> str:
    """A traceback someone else already formatted: frames and type names only."""
    kept: list[str] = []
    for line in text.splitlines():
        if _FRAME.fullmatch(line):
            kept.append(line)  # a code location
        elif not line.strip() or line.startswith((" ", "\t", "Traceback (", *_LINKS)):
            kept.append(scrub_text(line))
        else:
            name, colon, _ = line.partition(":")
            if re.fullmatch(r"[A-Za-z_][\w.]*", name):
                kept.append(f"{name}: {REDACTED}" if colon else name)
    return "\n".join(kept)


class ScrubFilter(logging.Filter):
    """Makes each record safe in place, before any formatter sees it: the message is
    formatted from scrubbed arguments and scrubbed again as a whole; an exception keeps its
    type and frames only. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "medpress_scrubbed", False):
            return True
        record.msg = scrub_text(_message(record))
        record.args = ()
        if record.exc_info:
            record.exc_text = scrub_exception(*record.exc_info)
        elif record.exc_text:
            record.exc_text = scrub_exception_text(record.exc_text)
        record.exc_info = None  # a formatter cannot fall back to the raw exception
        record.medpress_scrubbed = True
        return True


def _message(record: logging.LogRecord) -> str:
    template = record.msg if isinstance(record.msg, str) else scrub_value(record.msg)
    args = record.args
    if not args:
        return str(template)
    try:
        if isinstance(args, Mapping):
            return str(template) % {key: scrub_value(value) for key, value in args.items()}
        return str(template) % tuple(scrub_value(value) for value in args)
    except (TypeError, ValueError, KeyError):
        return f"{template} [arguments redacted]"


def _exception_line(kind: type[BaseException], error: BaseException | None) -> str:
    name = kind.__qualname__
    if kind.__module__ not in ("builtins", "__main__"):
        name = f"{kind.__module__}.{name}"
    return f"{name}: {REDACTED}\n" if error is not None and _has_message(error) else f"{name}\n"


def _has_message(error: BaseException) -> bool:
    try:
        return bool(str(error))
    except Exception:  # noqa: BLE001 - a broken __str__ still has a type name to show
        return True


def _quoted(match: re.Match[str]) -> str:
    quote, inner, colon = match[1], match[2], match[3]
    if inner in _MARKERS or _is_safe_token(inner) or (colon and _KEY.fullmatch(inner)):
        return match[0]  # an id, a number, a route template, or a key ("size": …)
    return f"{quote}{REDACTED}{quote}{colon or ''}"


def _is_safe_token(text: str) -> bool:
    if _NUMBER.fullmatch(text):
        return True
    if _HEX.fullmatch(text) and len(text) in (32, 64):
        return True
    return bool(_ROUTE.fullmatch(text)) and "{" in text and not _FILE.search(text)


def _base64(match: re.Match[str]) -> str:
    token = match[0]
    if (
        len(token) < 8
        or len(token) % 4
        or _HEX.fullmatch(token)
        or _NUMBER.fullmatch(token)
        or _TYPE_NAME.fullmatch(token)
    ):
        return token
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return token
    if decoded and all(char.isprintable() or char in "\t\n\r" for char in decoded):
        return REDACTED
    return token
