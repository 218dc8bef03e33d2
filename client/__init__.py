"""medpress client: the Python that runs in the browser (Pyodide via PyScript).

- ``client.core``: pure decisions (classify, plan, ffmpeg arguments, progress,
  the pipeline against small ports). Imports on plain CPython; unit-tested there.
- ``client.browser``: the adapters, the only code that touches ``js``.
"""
