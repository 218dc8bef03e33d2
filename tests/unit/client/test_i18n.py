"""The message catalogue: every language complete and consistent, and ``messages`` in each."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from string import Formatter

import pytest

from client.core import i18n, messages
from client.core.link import Uplink
from client.core.planner import Plan
from client.core.progress import Rate

LANGUAGES = i18n.LANGUAGES
ENGLISH = i18n.catalogue("en")
QUOTED = re.compile(r"“([^”]*)”")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    messages.set_language("en")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_every_language_file_is_a_supported_language_without_repeated_keys():
    assert sorted(p.stem for p in i18n.LOCALES.glob("*.json")) == sorted(LANGUAGES)
    for path in i18n.LOCALES.glob("*.json"):
        pairs = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=list)
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), path.name


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_in_every_language_with_the_same_placeholders(language):
    texts = i18n.catalogue(language)
    assert texts.keys() == ENGLISH.keys(), set(texts) ^ set(ENGLISH)
    for key, text in texts.items():
        assert isinstance(text, str) and text.strip(), f"{language}: {key} is empty"
        assert placeholders(text) == placeholders(ENGLISH[key]), f"{language}: {key}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_plain_names_that_js_can_fill_too(language):
    # public/js/i18n.js fills /\{(\w+)\}/ only: no format specs, no indexing, no stray braces.
    for key, text in i18n.catalogue(language).items():
        for literal, name, spec, conversion in Formatter().parse(text):
            assert "{" not in literal and "}" not in literal, key
            if name is not None:
                assert re.fullmatch(r"\w+", name) and not spec and not conversion, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_button_is_quoted_as_it_is_labelled(language):
    texts = i18n.catalogue(language)
    assert texts["send_original"] == f"“{texts['button.bypass']}”"
    for key, text in texts.items():
        for quoted in QUOTED.findall(text):
            assert quoted == texts["button.bypass"], (language, key, quoted)


def test_languages_from_tags():
    for tag in ("pt", "pt-BR", "pt-PT", "pt_br", "PT-br"):
        assert i18n.normalise(tag) == "pt-BR"
    for tag in ("en", "en-US", "en-GB"):
        assert i18n.normalise(tag) == "en"
    for tag in ("fr", "", None, "es-BR"):
        assert i18n.normalise(tag) is None
        assert messages.set_language(tag) == "en"
    assert messages.set_language("pt-PT") == "pt-BR" == messages.language()


def test_constants_follow_the_language():
    assert messages.READY == "Ready. Choose a video and press Start."
    assert messages.WHY_ORIGINAL["small-file"].startswith("This video is already small")
    messages.set_language("pt-BR")
    assert messages.READY == "Pronto. Escolha um vídeo e pressione Iniciar."
    assert messages.SEND_ORIGINAL == "“Enviar original agora”"
    assert messages.WHY_ORIGINAL.keys() == {
        k.removeprefix("why_original.") for k in ENGLISH if k.startswith("why_original.")}
    assert messages.NOT_MEDIA.format(kind="x").startswith("Este arquivo não é um vídeo")
    with pytest.raises(AttributeError):
        messages.NO_SUCH_MESSAGE  # noqa: B018


def test_portuguese_sizes_and_figures_use_a_decimal_comma():
    messages.set_language("pt-BR")
    assert messages.human_size(0) == "0 bytes"
    assert messages.human_size(1_500) == "1,5 KB"
    assert messages.human_size(12_345_678) == "12,3 MB"
    assert messages.human_size(3_200_000_000) == "3,2 GB"
    assert messages.sent(2_500_000, 10_000_000, compressed=True) == \
        "Enviado: 2,5 MB (antes 10,0 MB, 75% menor)."
    assert messages.sent(467_700, 1_200_000_000, compressed=True) == \
        "Enviado: 467,7 KB (antes 1,2 GB, mais de 99% menor)."
    assert messages.sent(10_000_000, 10_000_000, compressed=False) == "Original enviado (10,0 MB)."
    rate = Rate(percent=42.4, speed=1.5, eta_s=12.0)
    assert messages.compressing(rate) == "Comprimindo… 42% · 1,5× o tempo real · faltam cerca de 12 s"
    assert messages.uploading(7.2) == "Enviando… 7%"


def test_english_is_as_it_was():
    assert messages.human_size(12_400_000) == "12.4 MB"
    rate = Rate(percent=42.4, speed=1.5, eta_s=200.0)
    assert messages.compressing(rate) == "Compressing… 42% · 1.5× real time · about 3 min left"
    assert messages.uploading(7.2, "Emergency.") == "Emergency. Uploading… 7%"
    assert messages.not_media("text/plain") == messages.NOT_MEDIA.format(kind="it looks like text/plain")
    compress = Plan(action="compress", reason="compress", engines=("webcodecs", "ffmpeg-mt"),
                    estimated_bytes=2_000_000, estimated_seconds=4.0, arrival_s=5.6)
    assert messages.expectation(compress, 10_000_000) == (
        "Ready: about 2.0 MB instead of 10.0 MB, about 4 s to compress (quick), stored in about 6 s at "
        "an assumed 10.0 Mbit/s. Press Start.")
    slow = Plan(action="compress", reason="compress", engines=("ffmpeg-mt", "webcodecs"), estimated_bytes=1_000_000,
                estimated_seconds=20.0, arrival_s=36.0, uplink=Uplink(bps=500_000, source="measured"))
    assert messages.expectation(slow, 10_000_000) == (
        "Ready: about 1.0 MB instead of 10.0 MB, about 20 s to compress (thorough: a smaller file for this "
        "connection), stored in about 36 s at 0.5 Mbit/s. Press Start.")
    original = Plan(action="original", reason="little-gain")
    assert messages.expectation(original, 10_000_000) == \
        "Ready. This video is already well compressed, so the original is sent as it is. Press Start."


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders(language):
    messages.set_language(language)
    texts = i18n.catalogue(language)
    for name in ("READY", "CHOOSE_FILE", "EMPTY", "PHOTO_UNREADABLE", "PREPARING_PHOTO", "STRIPPING",
                 "UNREADABLE", "STARTING_ENGINE", "CANCELLED", "UNEXPECTED", "NOT_LOADED",
                 "CHECKING", "READING", "SEND_ORIGINAL"):
        assert getattr(messages, name) == texts[name.lower()]
    filled = [
        messages.NOT_MEDIA.format(kind="x"),
        messages.PHOTO_READY.format(max_side=2048),
        messages.UPLOAD_FAILED.format(detail="x"),
        messages.not_media("text/plain"),
        messages.sent(1, 2, compressed=True),
        messages.sent(1, 2, compressed=False),
        messages.compressing(Rate(percent=1, speed=1, eta_s=100)),
        messages.uploading(50, messages.why_original("emergency")),
        messages.duration_text(5),
        messages.duration_text(500),
        *(messages.why_original(reason) for reason in messages.WHY_ORIGINAL),
        *(messages.expectation(Plan(action="compress", reason="compress", engines=(engine,), estimated_bytes=1,
                                    estimated_seconds=1, uplink=Uplink(bps=1e6, source=source)), 9)
          for engine in ("webcodecs", "ffmpeg") for source in ("measured", "browser", "assumed")),
        messages.expectation(Plan(action="original", reason="small-file"), 9),
    ]
    for text in filled:
        assert text and "{" not in text and "}" not in text, text
    assert messages.why_original("no-such-reason") == ""


def test_every_message_the_client_code_names_exists_in_both_languages():
    import re
    from pathlib import Path

    from client.core import messages

    root = Path(__file__).resolve().parents[3] / "client"
    named = {m for path in root.rglob("*.py") for m in re.findall(r"messages\.([A-Z][A-Z_]+)\b", path.read_text())}
    assert named  # the scan found the code's messages
    for language in ("en", "pt-BR"):
        messages.set_language(language)
        missing = [name for name in sorted(named) if not isinstance(getattr(messages, name, None), (str, dict))]
        assert missing == [], (language, missing)
    messages.set_language("en")
