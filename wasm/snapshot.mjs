// Pyodide's memory snapshot, made at set-up in Node (wasm/build.py runs this):
//   node wasm/snapshot.mjs <pyodide index dir> <output file> <module>...
// Loads Pyodide, imports the given standard-library modules (what the page imports at start,
// listed in wasm/build.py), and writes the interpreter's memory (wasm/build.py also gzips it). The page
// restores it (wasm/src/interpreter.mjs) in well under a second instead of starting Python.
// Only pure-Python or built-in modules may go in: C extensions loaded as dynamic libraries
// do not survive a snapshot, so msgspec and our wheels are loaded after the restore.
import { writeFileSync } from "node:fs";
import { loadPyodide } from "pyodide";

const [indexURL, output, ...modules] = process.argv.slice(2);
const pyodide = await loadPyodide({ indexURL, _makeSnapshot: true });
pyodide.runPython(modules.map((name) => `import ${name}`).join("\n"));
const snapshot = pyodide.makeMemorySnapshot();
writeFileSync(output, snapshot);
console.log(`snapshot: ${modules.length} modules, ${(snapshot.length / 2 ** 20).toFixed(1)} MiB`);
