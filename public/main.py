# Bootstrap run by PyScript. Its interpreter, wasm/src/interpreter.mjs, has already restored
# Python from the set-up's snapshot and installed our wheels (msgspec and the client).
import js
import pyodide_js

js.performance.mark("medpress:main")  # the stages of start-up, read by bench/startup.py

# QA hook: this page's own Pyodide, for browser tests that run Python in it (the flag
# evaluator on the Unleash specification's vectors: tests/e2e/test_flags_pyodide.py).
js.window.medpressPyodide = pyodide_js

from client.browser.app import main  # noqa: E402

js.performance.mark("medpress:imported")

await main()  # noqa: F704 (top-level await)
