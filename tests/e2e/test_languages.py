"""The page in English and in Brazilian Portuguese: ?lang= wins, then the switch on the page
(remembered), then the browser's language; the main journey in both; the bypass in
Portuguese before Python has loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

COMPRESS_TIMEOUT_MS = 240_000

# Every status text the page shows, in order (the state recorder of conftest keeps states only).
TEXT_RECORDER = """
window.__medpressTexts = [];
new MutationObserver(() => {
  const text = document.querySelector('[data-testid="status"]')?.textContent.trim();
  if (text && window.__medpressTexts.at(-1) !== text) window.__medpressTexts.push(text);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""

PORTUGUESE = {
    "lang": "pt-BR", "start": "Iniciar", "bypass": "Enviar original agora", "priority": "Prioridade",
    "ready": "Pronto. Escolha um vídeo e pressione Iniciar.", "preview": "Pronto: cerca de",
    "done": r"^Enviado: \d+(,\d)? [KMG]?B \(antes \d+,\d MB, \d+% menor\)\.$", "stage": "Concluído",
    "loading": "Carregando… Você já pode usar “Enviar original agora”.",
}
ENGLISH = {
    "lang": "en", "start": "Start", "bypass": "Send original now", "priority": "Priority",
    "ready": "Ready. Choose a video and press Start.", "preview": "Ready: about",
    "done": r"^Sent \d+(\.\d)? [KMG]?B \(was \d+\.\d MB, \d+% smaller\)\.$", "stage": "Done",
    "loading": "Loading… You can already use “Send original now”.",
}


def expect_static_text(page, words: dict[str, str]) -> None:
    expect(page.locator("html")).to_have_attribute("lang", words["lang"])
    expect(page.get_by_test_id("language")).to_have_value(words["lang"])
    expect(page.get_by_test_id("start")).to_have_text(words["start"])
    expect(page.get_by_test_id("bypass")).to_have_text(words["bypass"])
    expect(page.locator("label.field span").nth(1)).to_have_text(words["priority"])


@pytest.mark.browser_context_args(locale="en-US")
@pytest.mark.parametrize("words", [PORTUGUESE, ENGLISH], ids=["pt-BR", "en"])
def test_the_main_journey_in_each_language(open_app, clip720: Path, words):
    page = open_app(f"?lang={words['lang']}")
    expect_static_text(page, words)
    status = page.get_by_test_id("status")
    expect(status).to_have_text(words["ready"])  # Python's first message, in the page's language

    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(status).to_contain_text(words["preview"], timeout=60_000)
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "done", timeout=COMPRESS_TIMEOUT_MS)
    expect(status).to_have_text(re.compile(words["done"]))
    expect(page.get_by_test_id("stage")).to_have_text(words["stage"])


@pytest.mark.browser_context_args(locale="pt-BR")
def test_a_portuguese_browser_gets_portuguese(open_app, clip720: Path):
    page = open_app()
    expect_static_text(page, PORTUGUESE)
    expect(page.locator(".lede")).to_contain_text("Envie um vídeo clínico")
    expect(page).to_have_title("medpress · envio de vídeo clínico")
    status = page.get_by_test_id("status")
    expect(status).to_have_text(PORTUGUESE["ready"])
    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(status).to_contain_text(PORTUGUESE["preview"], timeout=60_000)
    expect(status).to_contain_text(re.compile(r"\d+,\d MB"))  # a decimal comma


@pytest.mark.browser_context_args(locale="pt-BR")
def test_the_query_wins_over_the_browser(page, server, outside_requests):
    page.goto(server.url + "/?lang=en")
    expect_static_text(page, ENGLISH)
    expect(page.get_by_test_id("status")).to_have_text(ENGLISH["loading"])


@pytest.mark.browser_context_args(locale="en-US")
def test_the_switch_changes_the_page_at_once_and_is_remembered(open_app, clip720: Path):
    page = open_app()
    expect_static_text(page, ENGLISH)
    status, stage = page.get_by_test_id("status"), page.get_by_test_id("stage")
    expect(stage).to_have_text("Ready")

    page.get_by_test_id("language").select_option("pt-BR")
    expect_static_text(page, PORTUGUESE)
    expect(page.get_by_test_id("priority").locator("option").nth(2)).to_have_text("Emergência (sem compressão)")
    expect(page.get_by_test_id("bypass")).to_have_attribute("title", re.compile("^Pular a compressão"))
    expect(stage).to_have_text("Pronto")
    expect(status).to_have_text(PORTUGUESE["ready"])  # the message on screen is said again
    page.get_by_test_id("file-input").set_input_files(clip720)
    expect(status).to_contain_text(PORTUGUESE["preview"], timeout=60_000)  # Python followed

    page.reload()  # remembered, without anything that could name a patient
    expect_static_text(page, PORTUGUESE)
    kept = dict(page.evaluate("Object.entries(localStorage)"))
    assert kept["medpress.language"] == "pt-BR"
    assert set(kept) <= {"medpress.language", "medpress.installation", "medpress.flags"}
    assert "clip720" not in str(kept)
    page.get_by_test_id("language").select_option("en")
    expect_static_text(page, ENGLISH)
    expect(status).to_have_attribute("data-state", "ready", timeout=90_000)
    expect(page.get_by_test_id("queue-item")).to_have_count(1)  # the chosen clip, kept
    expect(status).to_have_text("Kept from before the page was reloaded.")


def test_the_bypass_speaks_portuguese_before_python_loads(page, server, outside_requests, clip720: Path):
    page.route("**/pyodide.asm.wasm", lambda route: route.abort())  # Python never loads
    page.goto(server.url + "/?lang=pt-BR")
    status = page.get_by_test_id("status")
    expect_static_text(page, PORTUGUESE)
    expect(status).to_have_text(PORTUGUESE["loading"])
    expect(status).to_have_attribute("data-state", "loading")
    page.get_by_test_id("language").select_option("en")  # the switch works without Python
    expect(status).to_have_text(ENGLISH["loading"])
    assert "lang=en" in page.url  # a reload keeps the choice
    page.get_by_test_id("language").select_option("pt-BR")
    expect(status).to_have_text(PORTUGUESE["loading"])

    page.get_by_test_id("bypass").click()  # no file yet
    expect(status).to_have_text("Escolha um vídeo primeiro e depois pressione “Enviar original agora”.")
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("bypass").click()
    expect(status).to_have_attribute("data-state", "bypassed", timeout=60_000)
    expect(status).to_have_text(re.compile(r"^Original enviado \(\d+,\d MB\)\.$"))
    expect(page.get_by_test_id("stage")).to_have_text("Original enviado")
    assert page.request.get(status.get_attribute("data-upload-url")).body() == clip720.read_bytes()


def test_no_english_on_the_way_in_portuguese(page, open_app, clip720: Path):
    page.add_init_script(TEXT_RECORDER)
    open_app("?lang=pt-BR")
    status = page.get_by_test_id("status")
    page.get_by_test_id("preset").select_option("medical-high")  # little gain: the original goes
    page.get_by_test_id("file-input").set_input_files(clip720)
    page.get_by_test_id("start").click()
    expect(status).to_have_attribute("data-state", "done", timeout=COMPRESS_TIMEOUT_MS)
    seen = page.evaluate("window.__medpressTexts")
    english = [t for t in seen if re.search(r"\b(the|video|Uploading|Ready|Sent)\b", t)]
    assert english == [], seen
