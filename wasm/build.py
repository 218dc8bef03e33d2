"""Build everything the browser loads into ``public/vendor/`` (never committed).

Inputs, all pinned:
- npm packages in ``wasm/node_modules`` (``npm ci`` from ``wasm/package-lock.json``);
- the msgspec wheel built for Pyodide, from PyPI (version pinned in ``pyproject.toml``);
- our own ``client`` package, packed as a pure-Python wheel (with its message catalogue,
  ``client/core/locales/*.json``, which is also copied to ``i18n/catalogue.json`` for JS);
- the JS glue in ``wasm/src``;
- our small WebAssembly kernels, ``wasm/kernels/*.c``, compiled by Debian's clang + lld;
- Pyodide's memory snapshot, made in Node by ``wasm/snapshot.mjs``.

Large compressible files also get a ``.gz`` twin, which the server sends to browsers that
accept gzip (the snapshot: 30 MiB → 6 MiB; ffmpeg's cores: 32 → 10 MiB).

Output: ``public/vendor/<asset>/...`` plus ``public/vendor/build.json``, whose
``build_id`` changes whenever any input changes, so the server can serve the
whole tree under ``/vendor/<build_id>/`` with an immutable cache.

Run: ``python wasm/build.py`` (the Makefile does it after ``npm ci``).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "wasm" / "node_modules"
VENDOR = ROOT / "public" / "vendor"
# Where this run builds: its own directory, swapped into place only once the whole build has
# succeeded, so a failed or concurrent build never leaves a half-built vendor tree behind.
OUT = ROOT / "public" / f".vendor-{os.getpid()}"
CACHE = ROOT / "wasm" / ".cache"
CATALOGUE = ROOT / "client" / "core" / "locales"  # one JSON file per language
KERNELS = ROOT / "wasm" / "kernels"
SNAPSHOT_SCRIPT = ROOT / "wasm" / "snapshot.mjs"
BYTECODE_SCRIPT = ROOT / "wasm" / "bytecode.mjs"
SNAPSHOT = "snapshot.bin"  # under pyodide/
# Standard-library modules the page imports before it is ready, beyond those Pyodide loads
# at start (found by listing sys.modules in a ready page): warm in the snapshot. sysconfig is
# wasm/src/interpreter.mjs's own. No C extension may go in (see wasm/snapshot.mjs).
SNAPSHOT_MODULES = (
    "datetime", "decimal", "email", "html", "importlib.metadata", "ipaddress", "numbers",
    "sysconfig", "tarfile", "urllib.parse", "uuid",
)
COMPRESSIBLE = (".wasm", ".js", ".mjs", ".json", ".bin", ".css")

MSGSPEC_VERSION = "0.22.0"
PYODIDE_PLATFORM = "pyemscripten_2026_0_wasm32"  # ties msgspec to Pyodide 314.x
CLIENT_WHEEL_VERSION = "0.1.0"

# (source under node_modules, destination under public/vendor, files to take or None for all)
NPM_ASSETS: list[tuple[str, str, list[str] | None]] = [
    (
        "pyodide",
        "pyodide",
        [
            "pyodide.mjs",
            "pyodide.asm.mjs",
            "pyodide.asm.wasm",
            "python_stdlib.zip",
            "pyodide-lock.json",
        ],
    ),
    ("@pyscript/core/dist", "pyscript", None),
    ("@ffmpeg/ffmpeg/dist/esm", "ffmpeg", None),
    ("@ffmpeg/core/dist/esm", "ffmpeg-core", None),
    ("@ffmpeg/core-mt/dist/esm", "ffmpeg-core-mt", None),
    ("tus-js-client/dist", "tus", ["tus.min.js"]),
    ("mediabunny/dist/bundles", "mediabunny", ["mediabunny.min.mjs"]),
    ("uplot/dist", "uplot", ["uPlot.iife.min.js", "uPlot.min.css"]),  # the dashboard's charts
]

SKIP_SUFFIXES = (".map", ".d.ts", ".d.mts")


def copy_npm_assets() -> None:
    for source, dest, names in NPM_ASSETS:
        src = NODE_MODULES / source
        if not src.is_dir():
            sys.exit(f"missing {src}: run `npm ci --prefix wasm` first")
        target = OUT / dest
        target.mkdir(parents=True)
        files = [src / n for n in names] if names else sorted(src.iterdir())
        for f in files:
            if f.is_file() and not f.name.endswith(SKIP_SUFFIXES):
                shutil.copy2(f, target / f.name.replace(".min.", "."))


def copy_glue() -> None:
    shutil.copytree(ROOT / "wasm" / "src", OUT / "app")


def compile_kernels() -> None:
    """Each ``wasm/kernels/<name>.c`` (freestanding C, SIMD) → ``app/<name>.wasm``, beside the
    workers that instantiate it. ``-mbulk-memory``: without a libc, clang lowers the
    kernels' zeroing loops to ``memory.fill`` instead of calling a ``memset`` nobody defines.
    No ``--initial-memory``: the JS side grows the memory to the frame sizes it meets."""
    for source in sorted(KERNELS.glob("*.c")):
        subprocess.run(
            [
                "clang", "--target=wasm32", "-O3", "-msimd128", "-mbulk-memory", "-nostdlib",
                "-Wl,--no-entry", "-o", str(OUT / "app" / f"{source.stem}.wasm"), str(source),
            ],
            check=True,
        )


def make_snapshot() -> None:
    subprocess.run(
        ["node", str(SNAPSHOT_SCRIPT), f"{NODE_MODULES / 'pyodide'}/", str(OUT / "pyodide" / SNAPSHOT),
         *SNAPSHOT_MODULES],
        check=True,
    )


def precompress() -> None:
    """``<file>.gz`` beside each compressible file of 64 KiB or more that gzip shrinks by at
    least a tenth (not wheels or zips: already compressed, and wheels are checked byte for byte)."""
    for path in sorted(OUT.rglob("*")):
        if path.suffix not in COMPRESSIBLE or path.stat().st_size < 64 * 1024:
            continue
        data = path.read_bytes()
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        if len(packed) <= 0.9 * len(data):
            path.with_name(path.name + ".gz").write_bytes(packed)


def msgspec_wheel() -> Path:
    """Download (once, then from cache) msgspec built for Pyodide's wasm32 ABI."""
    cache = CACHE / "wheels"
    found = sorted(cache.glob(f"msgspec-{MSGSPEC_VERSION}-*{PYODIDE_PLATFORM}.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", f"msgspec=={MSGSPEC_VERSION}",
                "--no-deps", "--only-binary=:all:", "--platform", PYODIDE_PLATFORM,
                "--python-version", "3.14", "--implementation", "cp", "-d", str(cache),
                "--quiet",
            ],
            check=True,
        )
        found = sorted(cache.glob(f"msgspec-{MSGSPEC_VERSION}-*{PYODIDE_PLATFORM}.whl"))
    return found[0]


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_client_wheel(dest: Path) -> Path:
    """Pack ``client/`` as a py3-none-any wheel (only the browser half of the project), with
    its bytecode compiled by Pyodide's Python (``wasm/bytecode.mjs``)."""
    name = f"medpress_client-{CLIENT_WHEEL_VERSION}"
    wheel = dest / f"{name}-py3-none-any.whl"
    dist_info = f"{name}.dist-info"
    entries: list[tuple[str, bytes]] = []
    with tempfile.TemporaryDirectory() as staging:
        shutil.copytree(ROOT / "client", Path(staging) / "client",
                        ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(["node", str(BYTECODE_SCRIPT), f"{NODE_MODULES / 'pyodide'}/", staging], check=True)
        client = Path(staging) / "client"
        files = [*client.rglob("*.py"), *client.rglob("*.pyc"), *client.glob("core/locales/*.json")]
        for path in sorted(files):
            entries.append((path.relative_to(staging).as_posix(), path.read_bytes()))
    entries.append((f"{dist_info}/METADATA", (
        f"Metadata-Version: 2.1\nName: medpress-client\nVersion: {CLIENT_WHEEL_VERSION}\n"
        "Requires-Dist: msgspec\n"
    ).encode()))
    entries.append((f"{dist_info}/WHEEL", (
        b"Wheel-Version: 1.0\nGenerator: medpress wasm/build.py\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )))
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in entries)
    record += f"{dist_info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in entries:
            # A fixed timestamp keeps the wheel (and so the build id) reproducible.
            zf.writestr(zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0)), d)
        zf.writestr(zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)), record)
    return wheel


def copy_catalogue() -> None:
    """The message catalogue for the page's plain JS (``public/js/i18n.js``), which must
    speak before Python loads: every language in one file, ``{language: {key: text}}``.
    The same files are in the client wheel, so the build id follows them."""
    languages = {path.stem: json.loads(path.read_text(encoding="utf-8"))
                 for path in sorted(CATALOGUE.glob("*.json"))}
    (OUT / "i18n").mkdir()
    (OUT / "i18n" / "catalogue.json").write_text(json.dumps(languages, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")


def build_id(wheels: list[Path]) -> str:
    """Hash of every input: the npm lock file, the wheels, the glue, the kernels and what
    goes into the snapshot."""
    h = hashlib.sha256(" ".join(SNAPSHOT_MODULES).encode())
    inputs = [ROOT / "wasm" / "package-lock.json", *wheels, *sorted((ROOT / "wasm" / "src").rglob("*")),
              *sorted(KERNELS.glob("*")), SNAPSHOT_SCRIPT, BYTECODE_SCRIPT]
    for path in inputs:
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def main() -> None:
    OUT.mkdir(parents=True)
    try:
        built = build()
        replaced = VENDOR.with_name(f".vendor-old-{os.getpid()}")
        if VENDOR.exists():
            VENDOR.rename(replaced)
        OUT.rename(VENDOR)
        shutil.rmtree(replaced, ignore_errors=True)
    finally:
        shutil.rmtree(OUT, ignore_errors=True)
    print(f"built public/vendor (build {built})")


def build() -> str:
    """Everything into ``OUT``; returns the build id."""
    copy_npm_assets()
    copy_glue()
    compile_kernels()
    copy_catalogue()
    wheels_dir = OUT / "wheels"
    wheels_dir.mkdir()
    wheels = [Path(shutil.copy2(msgspec_wheel(), wheels_dir)), build_client_wheel(wheels_dir)]
    make_snapshot()
    precompress()
    manifest = {"build_id": build_id(wheels), "wheels": [w.name for w in wheels], "snapshot": SNAPSHOT}
    (OUT / "build.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest["build_id"]


if __name__ == "__main__":
    main()
