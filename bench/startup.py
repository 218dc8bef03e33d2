"""Start-up: page load → Python ready, cold and warm, in headless Chromium.

    .venv/bin/python bench/startup.py [--runs 5]

Starts ``medpress serve`` and Debian Chromium, and reads the page's own clock: the moment
the status turns ``ready`` (Python loaded, the app attached), in ``performance.now()`` from
the start of the navigation. *Cold*: a fresh browser profile each run, nothing cached.
*Warm*: the same profile loaded again, so the service worker and the browser's caches
(including V8's compiled WebAssembly) serve what they kept. Each run uses its own profile
directory, as a clinician's browser does, because some caches are per profile.
Prints the median of each against the targets; it reports, it is not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import BrowserContext, Playwright, sync_playwright

from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.medpress_process import MedpressProcess

COLD_TARGET_S = 2.0
WARM_TARGET_S = 0.8

READY_AT = """
new MutationObserver((_, observer) => {
  const status = document.querySelector('[data-testid="status"]');
  if (status?.dataset.state === "ready") {
    window.__readyAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, attributes: true, childList: true});
"""


# The marks of wasm/src/interpreter.mjs and public/main.py, in order.
STAGES = ("medpress:interpreter", "medpress:python", "medpress:wheels", "medpress:main",
          "medpress:imported")


def load(context: BrowserContext, url: str) -> dict[str, float]:
    """Seconds from navigation start to each stage and to ``ready``, in a new page."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.__readyAt !== undefined", timeout=120_000)
    times = page.evaluate("""(stages) => Object.fromEntries([
        ...stages.map((name) => [name, performance.getEntriesByName(name)[0]?.startTime ?? NaN]),
        ["ready", window.__readyAt]])""", list(STAGES))
    # The service worker keeps the assets once Python is ready: let it finish before the next.
    page.wait_for_function("document.documentElement.dataset.assets !== undefined", timeout=120_000)
    page.close()
    return {name: ms / 1000 for name, ms in times.items()}


def one_profile(playwright: Playwright, url: str, profile: Path) -> tuple[dict, dict]:
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, service_workers="allow"
    )
    try:
        context.add_init_script(READY_AT)
        cold = load(context, url)
        warm = load(context, url)
    finally:
        context.close()
    return cold, warm


def stages(times: dict[str, float]) -> str:
    return ", ".join(f"{name.removeprefix('medpress:')} {seconds:.2f}" for name, seconds in times.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="medpress-startup-"))
    colds, warms = [], []
    with MedpressProcess(work / "var") as server, sync_playwright() as playwright:
        for run in range(args.runs):
            cold, warm = one_profile(playwright, server.base_url + "/", work / f"profile-{run}")
            colds.append(cold)
            warms.append(warm)
            print(f"  run {run + 1}: cold {stages(cold)}\n         warm {stages(warm)}", flush=True)
    cold = statistics.median(times["ready"] for times in colds)
    warm = statistics.median(times["ready"] for times in warms)
    print(f"page load → Python ready, median of {args.runs}: "
          f"cold {cold:.2f} s (target ≤ {COLD_TARGET_S}), warm {warm:.2f} s (target ≤ {WARM_TARGET_S})")
    print("PASS" if cold <= COLD_TARGET_S and warm <= WARM_TARGET_S else "FAIL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
