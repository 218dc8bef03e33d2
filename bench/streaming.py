"""Click → stored benchmark (issue 12): how long from pressing Start until the clip is
complete on the server, with the upload throttled, for medpress streaming its fragments while
it encodes, medpress uploading the whole file once made, the original sent at once, and native
ffmpeg compressing then uploading, side by side in one run.

    .venv/bin/python bench/streaming.py [--quick] [--keep] [--clips phone,testsrc-60]
                                        [--mbps 2,5,20] [--x264]

It reports (exit code 0 whatever it finds); it is not a test. ``--quick``: only the phone-like
clip, only at 5 Mbit/s.

Clips (made at run time by bench/compress.py's makers): ``phone`` 10 s 1920x1080 phone-like
(~17 Mbit/s); ``testsrc-60`` 60 s 1280x720 testsrc2 (CRF 18). Every run is at medpress's
default preset, medical-standard, routine priority.

Each run gets a fresh browser context (no uplink measured by an earlier run: the planner, which
orders the engines by the uplink it has measured, starts from its assumption each time), a page
of ``medpress serve`` on loopback, and the page's uploads capped with CDP
``Network.emulateNetworkConditions`` (uploadThroughput; no latency, downloads unthrottled).
The clip is chosen, its preview awaited, the CPU let settle, and Start pressed. click → stored
runs from the Start click (a capturing listener in the page) to the end of the answer to the
page's last request to the clip's upload, the PATCH that completed it (Resource Timing; all
three timed with ``performance.now()``). The run ends when the clip's queue row shows ``done``
(or ``bypassed``) with its upload URL (a MutationObserver): for a compressed clip that is a
little later, its poster (a JPEG still, uploaded on its own) being sent after the clip, and
the note "row done" says when. The upload is then checked complete with a HEAD
(Upload-Offset = Upload-Length) and its metadata read (engine, SSIM, compressed).

Runners: ``streaming``, medpress with the flag ``upload.streaming`` on (WebCodecs' fragments
leave while it encodes); ``whole-file``, medpress as it ships, the flag off (the output is
uploaded once made). The flag is put through the admin API before the page opens, and each run
counts the tus uploads the page created with ``Upload-Defer-Length`` (streamed ones) to check it;
with ``--x264``, ``x264-stream`` and ``x264-whole``, the same two with ffmpeg.wasm forced
(``?engine=ffmpeg-mt``: x264 in segments, or whole), ``/whole`` comparing them with each other;
``original``, priority Emergency (the original, at once, uncompressed); ``native``, native
``ffmpeg -threads 0`` running medpress's own job (bench/compress.py's ``native``: the preset's
CRF, veryfast) and its output then sent by the throttled page with priority Emergency: its
encode wall time plus that Start → stored. ``/native`` and ``/whole`` divide a run's click →
stored by those runners' at the same clip and throughput. SSIM is the page's own measurement
(metadata); native's (marked ``*``) is ffmpeg's, all planes. ``others``: the share of the CPUs
other processes used during the run (a run above 25 % is run once more; the quieter is kept).
Notes: when the clip's first bytes left, when its row turned ``uploading`` and ``done``, how
long the rate probe took, when a streamed encode was over (the engine's ``medpress stream:``
console line), the planner's own estimate shown before Start, and for originals the throughput
the upload reached.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Request, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests/
from bench.compress import (
    CHROMIUM_ARGS,
    STANDARD,
    Clip,
    cell,
    cpu_ticks,
    guard_loopback,
    least_disturbed,
    log,
    make_inputs,
    native,
    open_app,
    others_share,
    settle,
    upload_metadata,
    verdict,
)
from tests.support.chromium import CHROMIUM
from tests.support.medpress_process import MedpressProcess

CLIPS = ("phone", "testsrc-60")
RUNNERS = ("streaming", "whole-file", "original", "native")
X264_RUNNERS = ("x264-stream", "x264-whole")  # with --x264: ffmpeg.wasm forced, in segments or whole
STREAMED_RUNNERS = ("streaming", "x264-stream")  # the flag on
MBPS = (2.0, 5.0, 20.0)
TARGET_MBPS = 5.0  # the targets hold at this throughput
MAX_VS_NATIVE = 1.0  # streaming <= native ffmpeg then upload
MAX_VS_WHOLE = 0.75  # streaming at least 25 % faster than whole-file
STREAMING = "upload.streaming"
ITEM_TIMES = """
performance.setResourceTimingBufferSize(100000);  // the page loads hundreds of files first
window.__benchItem = [];  // {state, url, t}: each change of the first clip's state or upload URL
document.addEventListener("click", (event) => {  // capturing: before the page's own listeners
  if (event.target.closest('[data-testid="start"]')) window.__benchStart ??= performance.now();
}, true);
new MutationObserver(() => {
  const item = document.querySelector('[data-testid="queue-item"]');
  if (!item) return;
  const last = window.__benchItem.at(-1), url = item.dataset.uploadUrl || "";
  if (!last || last.state !== item.dataset.state || last.url !== url)
    window.__benchItem.push({state: item.dataset.state, url, t: performance.now()});
}).observe(document, {subtree: true, attributes: true, childList: true});
const info = console.info;  // the WebCodecs engine's last word when it streamed: its encode is over
console.info = (...args) => {
  if (String(args[0]).startsWith("medpress stream:")) window.__benchEncoded ??= performance.now();
  info.apply(console, args);
};
"""
SETTLED = """() => window.__benchItem.some((s) => s.url && ["done", "bypassed"].includes(s.state))
  || window.__benchItem.at(-1)?.state === "failed"
"""
# The page's own requests to the upload (its creation went to the collection): when the first
# began (a fresh upload's first PATCH) and when the last one's answer ended (the PATCH that
# completed it: the clip is stored). The bench's own HEAD is not the page's.
UPLOAD_TIMES = """(url) => {
  const seen = performance.getEntriesByType("resource").filter((e) => e.name === url);
  return seen.length ? [seen[0].startTime, Math.max(...seen.map((e) => e.responseEnd))] : [null, null];
}"""
PLANNED = re.compile(r"stored in about (.+?) at (.+?)\. Press Start")


@dataclass
class Run:
    clip: str  # the clip's kind, one of CLIPS
    mbps: float
    runner: str
    seconds: float | None = None  # click → stored (native: + its encode); None: no valid figure
    out_bytes: int = 0
    engine: str = ""
    ssim: str = ""
    complete: bool = False  # the server holds all of it (HEAD: Upload-Offset = Upload-Length)
    streamed: int = 0  # tus uploads the page created with Upload-Defer-Length (fragments sent)
    others: float = 0.0
    note: str = ""


def set_streaming(server: MedpressProcess, on: bool) -> None:
    """Put the server's flag state back with ``upload.streaming`` on or off, as an admin."""
    state = httpx.get(f"{server.base_url}/api/flags").json()
    [flag] = [f for f in state["features"] if f["name"] == STREAMING]
    flag["enabled"] = on
    headers = {"Authorization": f"Bearer {server.token('ops', admin=True)}"}
    httpx.put(f"{server.base_url}/api/flags", json=state, headers=headers).raise_for_status()


def click_to_stored(
    browser: Browser,
    url: str,
    outside: list[str],
    clip: Clip,
    mbps: float,
    runner: str,
    source: Path,
) -> Run:
    """One upload of ``source`` through a fresh context's page, uploads capped at ``mbps``."""
    run = Run(clip.kind, mbps, runner)
    context = browser.new_context()
    context.add_init_script(ITEM_TIMES)
    guard_loopback(context, outside)
    deferred: list[str] = []  # tus creations with Upload-Defer-Length: fragments streamed

    def watch(request: Request) -> None:
        if request.method == "POST" and "upload-defer-length" in request.headers:
            deferred.append(request.url)

    context.on("request", watch)
    try:
        page = open_app(context, url, "?engine=ffmpeg-mt" if runner in X264_RUNNERS else "")
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
        session.send(
            "Network.emulateNetworkConditions", {**conditions, "uploadThroughput": mbps * 1e6 / 8}
        )
        page.get_by_test_id("preset").select_option(STANDARD)
        page.get_by_test_id("file-input").set_input_files(source)
        status = page.get_by_test_id("status")
        expect(status).to_contain_text("Press Start", timeout=60_000)  # the preview has finished
        planned = PLANNED.search(status.inner_text())
        if runner in ("original", "native"):
            page.get_by_test_id("priority").select_option("emergency")
        settle()
        before = cpu_ticks()
        page.get_by_test_id("start").click()
        page.wait_for_function(SETTLED, timeout=900_000, polling=250)
        run.others = others_share(before)
        seen, start, encoded = page.evaluate(
            "[window.__benchItem, window.__benchStart, window.__benchEncoded]"
        )
        stored = next((s for s in seen if s["url"] and s["state"] in ("done", "bypassed")), None)
        if stored is None:
            run.note = f"failed: {page.get_by_test_id('queue-item').first.inner_text()[:100]!r}"
            return run
        head = page.request.head(stored["url"], headers={"Tus-Resumable": "1.0.0"})
        offset, length = head.headers.get("upload-offset"), head.headers.get("upload-length")
        run.complete = head.status == 200 and offset is not None and offset == length
        meta = upload_metadata(page, stored["url"])
        first, last = page.evaluate(UPLOAD_TIMES, stored["url"])
        run.seconds = ((last if last is not None else stored["t"]) - start) / 1000
        run.out_bytes = int(length or 0)
        run.engine = meta.get("engine", "") if meta.get("compressed") == "1" else "original"
        run.ssim, run.streamed = meta.get("ssim", ""), len(deferred)
        notes = [] if run.complete else [f"INCOMPLETE: {offset} of {length} B, HTTP {head.status}"]
        uploading = next((s["t"] for s in seen if s["state"] == "uploading"), None)
        if run.engine == "original":
            rate = run.out_bytes * 8 / run.seconds / 1e6
            notes.append(f"reason {meta.get('reason')}, {rate:.1f} Mbit/s effective")
        elif uploading is not None:
            notes.append(f"state uploading from {(uploading - start) / 1000:.1f} s")
        if first is not None and run.engine != "original":
            notes.append(f"first bytes sent at {(first - start) / 1000:.1f} s")
        notes.append(f"row done at {(stored['t'] - start) / 1000:.1f} s")
        if meta.get("probe_s"):
            notes.append(f"rate probe {float(meta['probe_s']):.1f} s")
        if encoded is not None:
            notes.append(f"streamed encode over at {(encoded - start) / 1000:.1f} s")
        if planned and runner not in ("original", "native"):
            notes.append(f"planned: stored in ~{planned[1]} at {planned[2]}")
        if runner not in ("original", "native"):
            notes.append(f"{run.streamed} deferred-length upload(s)")
        run.note = "; ".join(notes)
        return run
    finally:
        context.close()


def bench_clip(
    browser: Browser,
    server: MedpressProcess,
    outside: list[str],
    clip: Clip,
    work: Path,
    rates: tuple[float, ...],
    runners: tuple[str, ...],
) -> list[Run]:
    log(f"{clip.kind}: native encode…")
    made = work / f"native-{clip.kind}.mp4"
    encoded = least_disturbed(native, clip, STANDARD, made)
    runs = []
    for mbps in rates:
        for runner in runners:
            log(f"{clip.kind} at {mbps:g} Mbit/s: {runner}…")
            set_streaming(server, runner in STREAMED_RUNNERS)  # before the page opens and reads it
            source = made if runner == "native" else clip.path
            run = least_disturbed(
                click_to_stored, browser, server.base_url, outside, clip, mbps, runner, source
            )
            if runner == "native" and run.seconds is not None:
                upload_s, run.seconds = run.seconds, run.seconds + encoded.seconds
                run.engine, run.ssim = "native x264", f"{encoded.ssim:.4f}*"
                run.others = max(run.others, encoded.others)
                run.note = f"encode {encoded.seconds:.1f} s + upload {upload_s:.1f} s; {run.note}"
            log(f"  {cell(run.seconds, '.1f', 0)} s, {run.engine or '-'}; {run.note}")
            runs.append(run)
    set_streaming(server, False)
    return runs


def report(runs: list[Run]) -> list[tuple[str, bool]]:
    """Print the table; return the targets as (label, passed)."""
    print(
        f"\n{'clip':<11}{'Mbit/s':>7}  {'runner':<11}{'click→stored s':>15}{'/native':>8}"
        f"{'/whole':>7}{'out MB':>8}  {'engine':<12}{'SSIM':<8}{'others':>7}  notes"
    )
    by = {(r.clip, r.mbps, r.runner): r for r in runs}
    targets = []
    for r in runs:
        # x264's streaming against x264's whole file; the rest against medpress's default, whole
        whole = by.get((r.clip, r.mbps, "x264-whole" if r.runner in X264_RUNNERS else "whole-file"))
        base = by.get((r.clip, r.mbps, "native"))
        vs_native = r.seconds / base.seconds if r.seconds and base and base.seconds else None
        vs_whole = r.seconds / whole.seconds if r.seconds and whole and whole.seconds else None
        print(
            f"{r.clip:<11}{r.mbps:>7g}  {r.runner:<11}{cell(r.seconds, '.1f', 15)}"
            f"{cell(vs_native, '.2f', 8, 'x')}{cell(vs_whole, '.2f', 7, 'x')}"
            f"{cell(r.out_bytes / 1e6 or None, '.2f', 8)}  {r.engine or '-':<12}"
            f"{r.ssim or '-':<8}{r.others * 100:6.0f}%  {r.note}"
        )
        if r.runner == "streaming" and r.mbps == TARGET_MBPS:
            at = f"{r.clip} at {r.mbps:g} Mbit/s: streaming"
            targets += [
                (
                    f"{at} <= {MAX_VS_NATIVE}x native then upload",
                    vs_native is not None and vs_native <= MAX_VS_NATIVE,
                ),
                (
                    f"{at} <= {MAX_VS_WHOLE}x whole-file",
                    vs_whole is not None and vs_whole <= MAX_VS_WHOLE,
                ),
            ]
    compressed = [r for r in runs if r.engine in ("webcodecs", "ffmpeg-mt")]
    targets += [
        ("every run's upload is complete on the server", all(r.complete for r in runs)),
        (
            f"{STREAMING} steered the page (compressed runs streamed exactly when it was on)",
            all(bool(r.streamed) == (r.runner in STREAMED_RUNNERS) for r in compressed),
        ),
    ]
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the phone-like clip at 5 Mbit/s")
    parser.add_argument("--keep", action="store_true", help="keep the inputs and outputs")
    parser.add_argument("--clips", default=",".join(CLIPS), help=f"of {', '.join(CLIPS)}")
    parser.add_argument("--mbps", default=",".join(f"{m:g}" for m in MBPS), help="upload caps")
    parser.add_argument("--x264", action="store_true",
                        help="also x264 (ffmpeg.wasm forced) streamed in segments and sent whole")
    options = parser.parse_args()
    chosen = options.clips.split(",")
    kinds = ("phone",) if options.quick else tuple(c for c in CLIPS if c in chosen)
    rates = (TARGET_MBPS,) if options.quick else tuple(float(m) for m in options.mbps.split(","))
    work = Path(tempfile.mkdtemp(prefix="medpress-streaming-"))
    print(
        f"medpress click → stored benchmark ({'quick' if options.quick else 'full'}), "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; work dir {work}"
    )
    clips = make_inputs(work, kinds)
    for clip in clips:
        print(f"input {clip.kind}: {clip.name}: {clip.size / 1e6:.2f} MB, {clip.mbit_s:.1f} Mbit/s")
    server = MedpressProcess(work / "var").start()
    outside: list[str] = []
    runs: list[Run] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for clip in clips:
                runs += bench_clip(browser, server, outside, clip, work, rates,
                                   RUNNERS + (X264_RUNNERS if options.x264 else ()))
            browser.close()
    finally:
        server.stop()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    targets = report(runs)
    targets.append(("the page made no request beyond 127.0.0.1", not outside))
    print("\n== Targets")
    for label, ok in targets:
        print(f"  {verdict(ok)}  {label}")
    met = sum(ok for _, ok in targets)
    print(f"{met}/{len(targets)} targets met; load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
