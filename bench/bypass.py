"""Bypass latency: from the click on "Send original now" to the first tus request, in the page.

    .venv/bin/python bench/bypass.py [--runs 5]

Starts ``medpress serve`` and Debian Chromium (headless), and measures inside the page (one
clock): ``performance.now()`` when the click reaches the document, and when tus-js-client sends
its first request (the POST that creates the upload). Moments, each in fresh pages: right
after ``DOMContentLoaded`` and 0.3, 0.6, 0.9 and 1.2 s later (Python's start: its snapshot
restored, its wheels unpacked, the client imported; any of them could hold the page's only
thread), with Python's runtime blocked (it never loads), with Python ready and idle, and
while the slowest engine (single-threaded ffmpeg.wasm) compresses.
Prints the median and the worst of each against the 50 ms target; it reports, it is not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import Page, expect, sync_playwright

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.medpress_process import MedpressProcess

TARGET_MS = 50.0
STARTING_MS = (0, 300, 600, 900, 1200)  # clicks this long after DOMContentLoaded

# The click's time, and the first request's to /files/ (tus-js-client uses XMLHttpRequest).
TIMING = """
window.__bypass = {};
document.addEventListener("click", (event) => {
  if (event.target.closest?.('[data-testid="bypass"]')) window.__bypass.click ??= performance.now();
}, true);
const send = XMLHttpRequest.prototype.send;
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  this.__tus = String(url).includes("/files/");
  return open.call(this, method, url, ...rest);
};
XMLHttpRequest.prototype.send = function (...args) {
  if (this.__tus) window.__bypass.request ??= performance.now();
  return send.apply(this, args);
};
"""


def make_clip(directory: Path) -> Path:
    path = directory / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
         "-t", "10", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt",
         "yuv420p", str(path)],
        check=True,
    )
    return path


def one_run(page: Page, url: str, clip: Path, moment: str, after_ms: int = 0) -> float:
    page.add_init_script(TIMING)
    if moment == "no-python":
        page.route("**/pyodide.asm.wasm", lambda route: route.abort())  # Python never loads
    query = "?engine=ffmpeg" if moment == "compressing" else ""
    page.goto(f"{url}/{query}", wait_until="domcontentloaded")
    status = page.get_by_test_id("status")
    page.get_by_test_id("file-input").set_input_files(clip)
    if moment == "loading":
        page.evaluate("(ms) => new Promise((done) => setTimeout(done, ms))", after_ms)
    elif moment != "no-python":
        expect(status).to_have_attribute("data-state", "ready", timeout=120_000)
    if moment == "compressing":
        page.get_by_test_id("start").click()
        expect(status).to_contain_text("% ·", timeout=120_000)  # encoding is under way
    page.get_by_test_id("bypass").click()
    page.wait_for_function("window.__bypass.request !== undefined", timeout=30_000)
    timing = page.evaluate("window.__bypass")
    expect(status).to_have_attribute("data-state", "bypassed", timeout=120_000)
    return timing["request"] - timing["click"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medpress-bypass-"))
    clip = make_clip(work)
    with MedpressProcess(work / "var") as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"click → first tus request, {args.runs} fresh pages each (target ≤ {TARGET_MS:.0f} ms)")
        worst = 0.0
        moments = [*(("loading", ms) for ms in STARTING_MS), ("no-python", 0), ("ready", 0),
                   ("compressing", 0)]
        for moment, after_ms in moments:
            samples = []
            for _ in range(args.runs):
                context = browser.new_context()
                samples.append(one_run(context.new_page(), server.base_url, clip, moment, after_ms))
                context.close()
            worst = max(worst, max(samples))
            name = f"loading+{after_ms / 1000:.1f}s" if moment == "loading" else moment
            print(
                f"  {name:14} median {statistics.median(samples):6.1f} ms, "
                f"worst {max(samples):6.1f} ms  {[round(s) for s in samples]}",
                flush=True,
            )
        browser.close()
    print(("PASS" if worst <= TARGET_MS else "FAIL") + f": worst {worst:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
