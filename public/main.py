# Bootstrap run by PyScript: load our wheels from the versioned vendor tree, then start.
import js
import pyodide_js

vendor = js.document.documentElement.dataset.vendor
build = await (await js.fetch(f"{vendor}/build.json")).json()  # noqa: F704 (top-level await)
await pyodide_js.loadPackage([f"{vendor}/wheels/{name}" for name in build.wheels])  # noqa: F704
# QA hook: this page's own Pyodide, for browser tests that run Python in it (the flag
# evaluator on the Unleash specification's vectors: tests/e2e/test_flags_pyodide.py).
js.window.medpressPyodide = pyodide_js

from client.browser.app import main  # noqa: E402

await main()  # noqa: F704
