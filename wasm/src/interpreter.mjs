// The interpreter PyScript starts (its `interpreter` config names this module): Pyodide,
// restored from the memory snapshot made at set-up (wasm/snapshot.mjs), with our wheels
// unpacked into it. PyScript's config cannot hand `loadPyodide` a snapshot, so this module
// re-exports pyodide.mjs and wraps only `loadPyodide`; PyScript stays in charge of the page.
//
// No serial waterfall: the page loads this module early (index.html), and Python's start
// begins then, while PyScript is still starting; PyScript's `loadPyodide` call receives the
// Python already on its way (with PyScript's stdout and stderr from then on).
import * as pyodide from "../pyodide/pyodide.mjs";

export * from "../pyodide/pyodide.mjs";

performance.mark("medpress:interpreter");  // the stages of start-up, read by bench/startup.py
const VENDOR = new URL("../", import.meta.url);
const INDEX_URL = new URL("pyodide/", VENDOR).href;

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${response.status} for ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

const build = fetch(new URL("build.json", VENDOR)).then((response) => response.json());
const snapshot = build.then((b) => (b.snapshot ? bytes(new URL(`pyodide/${b.snapshot}`, VENDOR)) : null));
const wheels = build.then((b) => Promise.all(b.wheels.map((name) => bytes(new URL(`wheels/${name}`, VENDOR)))));

let output = { stdout: (text) => console.log(text), stderr: (text) => console.error(text) };

/** Pyodide with our wheels installed: restored from the snapshot when there is one (a set-up
 * without it, or a failed fetch, falls back to a plain start, slower but the same). */
async function start() {
  const saved = await snapshot.catch((error) => {
    console.warn("medpress: no Python snapshot, starting Python plainly:", error.message);
    return null;
  });
  const py = await pyodide.loadPyodide({
    indexURL: INDEX_URL,
    stdout: (text) => output.stdout(text),
    stderr: (text) => output.stderr(text),
    ...(saved ? { _loadSnapshot: saved } : {}),
  });
  document.documentElement.dataset.pythonStart = saved ? "snapshot" : "plain";  // for QA
  performance.mark("medpress:python");
  const sitePackages = py.runPython("import sysconfig; sysconfig.get_path('purelib')");
  for (const wheel of await wheels) py.unpackArchive(wheel, "wheel", { extractDir: sitePackages });
  performance.mark("medpress:wheels");
  return py;
}

const python = start();

/** PyScript's call: the Python started above. Of its options only the output handlers
 * matter (the others are PyScript's defaults, which this page does not change). */
export async function loadPyodide({ stdout, stderr } = {}) {
  output = { stdout: stdout ?? output.stdout, stderr: stderr ?? output.stderr };
  return python;
}
