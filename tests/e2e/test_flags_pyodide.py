"""The flag evaluator in the browser: every Unleash specification case that the unit tests
run on CPython (tests/unit/client/test_flags_spec.py), evaluated by client.flags inside the
page's own Pyodide in Chromium, in one round trip. The answers must be the specification's
and identical to CPython's."""

from __future__ import annotations

import json
import sys

from tests.unit.client.test_flags_spec import evaluate, spec_cases

# Runs in the page's interpreter (reached through public/main.py's QA hook): evaluates
# the cases and answers in JSON, with where client.flags came from and which Python ran it.
IN_PYODIDE = """
import json, sys
import client.flags
from client.flags import get_variant, is_enabled

def run(payload):
    data = json.loads(payload)
    results = []
    for item in data["cases"]:
        state, case = data["states"][item["file"]], item["case"]
        evaluate = is_enabled if item["kind"] == "test" else get_variant
        results.append(evaluate(state, case["toggleName"], case["context"]))
    return json.dumps({"python": sys.version, "platform": sys.platform,
                       "module": client.flags.__file__, "results": results})
run
"""

EVALUATE_IN_PAGE = """async ({code, payload}) => {
  const pyodide = window.medpressPyodide;
  const run = pyodide.runPython(code, {globals: pyodide.toPy({})});
  try { return run(payload); } finally { run.destroy(); }
}"""


def test_specification_cases_give_the_same_answers_in_pyodide(app_page):
    cases = spec_cases()
    states = {c["file"]: c["state"] for c in cases}
    payload = json.dumps({"states": states, "cases": [
        {"file": c["file"], "kind": c["kind"], "case": c["case"]} for c in cases]})

    answer = json.loads(app_page.evaluate(EVALUATE_IN_PAGE, {"code": IN_PYODIDE, "payload": payload}))

    assert answer["platform"] == "emscripten" and answer["python"] != sys.version
    assert "/site-packages/client/flags/" in answer["module"]  # our wheel, not another copy
    pyodide = answer["results"]
    assert len(pyodide) == len(cases) == 275
    wrong = [(c["id"], got) for c, got in zip(cases, pyodide, strict=True)
             if got != c["case"]["expectedResult"]]
    assert wrong == [], f"Pyodide disagrees with the specification: {wrong}"
    cpython = [evaluate(c["kind"], c["state"], c["case"]) for c in cases]
    differ = [(c["id"], py, cp) for c, py, cp in zip(cases, pyodide, cpython, strict=True)
              if py != cp]
    assert differ == [], f"Pyodide and CPython differ: {differ}"
