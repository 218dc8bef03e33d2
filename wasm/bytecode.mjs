// Python bytecode for the client wheel, compiled at set-up by Pyodide's own Python (the
// browser's version; this machine's CPython is another), so the page imports without
// compiling (wasm/build.py runs this):
//   node wasm/bytecode.mjs <pyodide index dir> <directory holding client/>
// Writes client/**/__pycache__/*.cpython-3XX.pyc beside the sources, as unchecked-hash
// .pyc files: installing a wheel gives its files new times, which would void timestamp ones.
import { loadPyodide } from "pyodide";

const [indexURL, root] = process.argv.slice(2);
const pyodide = await loadPyodide({ indexURL });
pyodide.FS.mkdir("/src");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root }, "/src");
const ok = pyodide.runPython(`
import compileall, py_compile
compileall.compile_dir("/src/client", quiet=1,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)`);
if (!ok) throw new Error("the client does not compile under Pyodide's Python");
