"""The page's retry policy (``public/js/retry.js``), run in Node: which failures are retried
and how long the page waits first."""

import json
import shutil
import subprocess
from pathlib import Path

RETRY_JS = Path(__file__).resolve().parents[3] / "public" / "js" / "retry.js"


def _evaluate(expression: str) -> object:
    node = shutil.which("node")
    assert node, "Node is required: run the README's set-up (make test does it)"
    script = (
        f"import * as retry from {json.dumps(RETRY_JS.as_uri())};\n"
        f"console.log(JSON.stringify({expression}));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_what_is_retried() -> None:
    statuses = [0, 500, 502, 503, 409, 423, 429, 400, 401, 403, 404, 410, 413, 460]
    retried = _evaluate(f"{statuses}.map((s) => retry.retryable(s))")
    assert dict(zip(statuses, retried, strict=True)) == {
        0: True,
        500: True,
        502: True,
        503: True,
        409: True,
        423: True,
        429: True,
        400: False,
        401: False,
        403: False,
        404: False,
        410: False,
        413: False,
        460: False,
    }


def test_retry_after_wins_and_is_capped() -> None:
    now = 1_800_000_000_000
    date = "Wed, 15 Jan 2027 08:00:05 GMT"
    at = _evaluate(f"Date.parse({json.dumps(date)})")
    delays = _evaluate(
        f"[retry.retryDelayMs(5, '2', {now}), retry.retryDelayMs(0, {json.dumps(date)}, {at} - 5000),"
        f" retry.retryDelayMs(0, '86400', {now})]"
    )
    assert delays == [2000, 5000, 300_000]


def test_back_off_doubles_with_jitter_up_to_a_cap() -> None:
    low = _evaluate("[0, 1, 2, 3, 10].map((a) => retry.retryDelayMs(a, null, 0, () => 0))")
    high = _evaluate("[0, 1, 2, 3, 10].map((a) => retry.retryDelayMs(a, null, 0, () => 1))")
    assert low == [250, 500, 1000, 2000, 15000]  # half of each ceiling is fixed
    assert high == [500, 1000, 2000, 4000, 30000]  # the other half is random
