"""Ingest benchmark of the filesystem store: the real ``medpress serve`` over loopback.

    .venv/bin/python bench/ingest.py [--size-mib 512] [--uploads 200] [--upload-mib 10]
                                     [--chunk-mib 2] [--rounds 3] [--baseline REF] [--dir DIR]

It reports (exit code 0 unless a file came back corrupted); it is not a test.

1. Raw disk: ``dd if=/dev/zero bs=8M conv=fsync`` of ``--size-mib`` into ``--dir``.
2. Ingest: one upload of the same size, sent as sequential 8 MiB PATCHes (the browser
   client's chunk size) over one keep-alive connection; throughput, and its ratio to dd.
   With ``--baseline REF``, medpress as it was at that git ref runs the same ingest in
   the same rounds (interleaved with dd and the current build), and the ratio of the
   two is printed.
3. Concurrency: ``--uploads`` uploads of ``--upload-mib`` each, all at once, in
   ``--chunk-mib`` PATCHes; p50/p99/max PATCH latency, then every file is downloaded
   and compared by sha256 with what was sent.

Server and client share the machine (and its cores), as they would in a one-box install;
the client is a minimal asyncio HTTP/1.1 client, so that its own CPU cost stays small.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.raw_http import RawConnection, percentile
from tests.support.medpress_process import MedpressProcess

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def disk_throughput(directory: Path, size_mib: int) -> float:
    """MiB/s of ``dd`` writing ``size_mib`` in 8 MiB blocks, fsynced before it exits."""
    target = directory / "dd.bin"
    count = max(size_mib // 8, 1)
    started = time.perf_counter()
    subprocess.run(
        [
            "dd",
            "if=/dev/zero",
            f"of={target}",
            "bs=8M",
            f"count={count}",
            "conv=fsync",
            "status=none",
        ],
        check=True,
    )
    elapsed = time.perf_counter() - started
    target.unlink()
    return count * 8 / elapsed


async def ingest_throughput(server: MedpressProcess, size_mib: int) -> float:
    """MiB/s of one upload sent as sequential 8 MiB PATCHes (each fsynced before its 204)."""
    block = random.Random(1).randbytes(8 * MIB)
    count = max(size_mib // 8, 1)
    async with RawConnection(server.port, server.token("bench")) as connection:
        url = await connection.create(count * 8 * MIB)
        started = time.perf_counter()
        for index in range(count):
            await connection.patch(url, index * 8 * MIB, block)
        elapsed = time.perf_counter() - started
        await connection.request("DELETE", url, {})
    return count * 8 / elapsed


async def concurrent_uploads(
    server: MedpressProcess, uploads: int, upload_mib: int, chunk_mib: int
) -> dict[str, float | int]:
    token = server.token("bench")
    latencies: list[float] = []
    urls: list[str] = [""] * uploads
    size, chunk = upload_mib * MIB, chunk_mib * MIB
    # made before the clock starts
    payloads = [random.Random(number).randbytes(size) for number in range(uploads)]

    async def one(number: int) -> None:
        data = payloads[number]
        async with RawConnection(server.port, token) as connection:
            urls[number] = url = await connection.create(size)
            for offset in range(0, size, chunk):
                started = time.perf_counter()
                await connection.patch(url, offset, data[offset : offset + chunk])
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(number) for number in range(uploads)))
    wall = time.perf_counter() - started

    corrupted = 0
    async with RawConnection(server.port, token) as connection:
        for number, url in enumerate(urls):
            status, _, content = await connection.request("GET", url, {})
            corrupted += (
                status != 200
                or hashlib.sha256(content).digest() != hashlib.sha256(payloads[number]).digest()
            )
    latencies.sort()
    return {
        "uploads": uploads,
        "patches": len(latencies),
        "wall_s": round(wall, 2),
        "aggregate_mib_s": round(uploads * upload_mib / wall, 1),
        "patch_p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "patch_p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "patch_max_ms": round(latencies[-1] * 1000, 1),
        "corrupted": corrupted,
    }


def baseline_program(ref: str, root: Path) -> list[str]:
    """``medpress`` as it was at git ``ref`` (a worktree), run with this venv's Python."""
    tree = root / f"baseline-{ref}"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref],
        check=True,
        capture_output=True,
    )
    code = f"import sys; sys.path.insert(0, {str(tree)!r}); from server.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code]


def remove_worktree(root: Path) -> None:
    for tree in root.glob("baseline-*"):
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--upload-mib", type=int, default=10)
    parser.add_argument("--chunk-mib", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="ingest runs per variant")
    parser.add_argument(
        "--baseline", help="a git ref to measure side by side (e.g. efa024a, before the registry)"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medpress-ingest-", dir=args.dir))
    env = {"MEDPRESS_MAX_UPLOAD_SIZE": str(max(args.size_mib, 64) * MIB * 2)}
    try:
        variants: dict[str, list[str] | None] = {"medpress": None}
        if args.baseline:
            variants[f"baseline {args.baseline}"] = baseline_program(args.baseline, root)
        disks: list[float] = []
        ingests: dict[str, list[float]] = {name: [] for name in variants}
        for round_number in range(args.rounds):  # interleaved: the machine's load hits all alike
            disks.append(disk_throughput(root, args.size_mib))
            for name, program in variants.items():
                data_dir = root / f"var-{name.split()[0]}-{round_number}"
                with MedpressProcess(data_dir, env=env, program=program) as server:
                    ingests[name].append(asyncio.run(ingest_throughput(server, args.size_mib)))
                shutil.rmtree(data_dir, ignore_errors=True)
        disk = statistics.median(disks)
        print(
            f"raw disk (dd bs=8M conv=fsync, {args.size_mib} MiB): median {disk:.1f} MiB/s "
            f"of {[round(d) for d in disks]}",
            flush=True,
        )
        ratios = {}
        for name, values in ingests.items():
            ratios[name] = statistics.median(v / d for v, d in zip(values, disks, strict=True))
            print(
                f"{name} ingest (8 MiB PATCHes, loopback, {args.size_mib} MiB): median "
                f"{statistics.median(values):.1f} MiB/s of {[round(v) for v in values]}, "
                f"{ratios[name]:.2f} x raw disk (median of per-round ratios)",
                flush=True,
            )
        if args.baseline:
            change = ratios["medpress"] / ratios[f"baseline {args.baseline}"]
            print(f"medpress / baseline {args.baseline}: {change:.2f}", flush=True)
        with MedpressProcess(root / "var", env=env) as server:
            concurrency = asyncio.run(
                concurrent_uploads(server, args.uploads, args.upload_mib, args.chunk_mib)
            )
        print(
            f"{concurrency['uploads']} concurrent uploads x {args.upload_mib} MiB "
            f"({concurrency['patches']} PATCHes of {args.chunk_mib} MiB): "
            f"wall {concurrency['wall_s']} s, {concurrency['aggregate_mib_s']} MiB/s, "
            f"PATCH p50 {concurrency['patch_p50_ms']} ms, p99 {concurrency['patch_p99_ms']} ms, "
            f"max {concurrency['patch_max_ms']} ms, corrupted files: {concurrency['corrupted']}"
        )
        print(json.dumps({"disk_mib_s": round(disk, 1), "ratios": ratios, **concurrency}))
        return 1 if concurrency["corrupted"] else 0
    finally:
        remove_worktree(root)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
