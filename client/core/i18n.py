"""The catalogue of every sentence a clinician reads, in each language, and the current one.

The catalogue is ``client/core/locales/<language>.json``: one flat object of
``"key": "text"`` per language, the same keys in each, placeholders written
``{name}`` (filled by ``str.format`` here and by ``public/js/i18n.js`` in the page,
which reads the same files from the vendor tree that ``wasm/build.py`` makes).

Pure: no browser imports. The page tells Python its language
(``client.browser.page.follow_language``); tests call ``set_language`` themselves.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("en", "pt-BR")
DEFAULT = "en"

_current = DEFAULT


def normalise(tag: str | None) -> str | None:
    """A supported language for a BCP 47 tag ("pt", "pt-PT", "pt-br" → "pt-BR";
    "en-GB" → "en"), or None for anything else."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return {"pt": "pt-BR", "en": "en"}.get(primary)


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every key → text of one supported language."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language: {language!r}")
    return json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))


def set_language(tag: str | None) -> str:
    """Use ``tag``'s language from now on (English if it is not supported); returns it."""
    global _current
    _current = normalise(tag) or DEFAULT
    return _current


def language() -> str:
    return _current


def text(key: str, **params: object) -> str:
    """The current language's text for ``key``, with ``{placeholders}`` filled if given."""
    template = catalogue(_current)[key]
    return template.format(**params) if params else template


def has(key: str) -> bool:
    return key in catalogue(_current)


def with_prefix(prefix: str) -> dict[str, str]:
    """``{rest: text}`` of every key ``prefix + rest``, in the current language."""
    return {k[len(prefix):]: v for k, v in catalogue(_current).items() if k.startswith(prefix)}


def decimal(value: float, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals and the current language's separator ("12,3")."""
    return f"{value:.{digits}f}".replace(".", text("number.decimal"))
