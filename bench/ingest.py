"""Ingest benchmark of the filesystem store: the real ``medpress serve`` over loopback.

    .venv/bin/python bench/ingest.py [--size-mib 512] [--uploads 200] [--upload-mib 10]
                                     [--chunk-mib 2] [--dir DIR]

It reports (exit code 0 unless a file came back corrupted); it is not a test.

1. Raw disk: ``dd if=/dev/zero bs=8M conv=fsync`` of ``--size-mib`` into ``--dir``.
2. Ingest: one upload of the same size, sent as sequential 8 MiB PATCHes (the browser
   client's chunk size) over one keep-alive connection; throughput, and its ratio to dd.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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


class RawConnection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams.

    Python HTTP clients cost more CPU than the server under test on this 2-core box;
    this one hands bodies to the socket as they are, so the figures measure the server.
    """

    def __init__(self, server: MedpressProcess, token: str) -> None:
        self._server = server
        self._auth = f"Bearer {token}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Self:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._server.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._writer is not None
        self._writer.close()
        await self._writer.wait_closed()

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self._server.port}"]
        lines += [f"Authorization: {self._auth}", "Tus-Resumable: 1.0.0"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        if body:
            self._writer.write(body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        response_headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                response_headers[name.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", "0"))
        content = await self._reader.readexactly(length) if method != "HEAD" else b""
        return int(status_line.split(" ")[1]), response_headers, content

    async def create(self, size: int) -> str:
        status, headers, _ = await self.request("POST", "/files/", {"Upload-Length": str(size)})
        assert status == 201, status
        return headers["location"]

    async def patch(self, url: str, offset: int, body: bytes) -> None:
        status, _, content = await self.request(
            "PATCH", url, {"Content-Type": OCTETS, "Upload-Offset": str(offset)}, body
        )
        assert status == 204, (status, content)


async def ingest_throughput(server: MedpressProcess, size_mib: int) -> float:
    """MiB/s of one upload sent as sequential 8 MiB PATCHes (each fsynced before its 204)."""
    block = random.Random(1).randbytes(8 * MIB)
    count = max(size_mib // 8, 1)
    async with RawConnection(server, server.token("bench")) as connection:
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
        async with RawConnection(server, token) as connection:
            urls[number] = url = await connection.create(size)
            for offset in range(0, size, chunk):
                started = time.perf_counter()
                await connection.patch(url, offset, data[offset : offset + chunk])
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(number) for number in range(uploads)))
    wall = time.perf_counter() - started

    corrupted = 0
    async with RawConnection(server, token) as connection:
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
        "patch_p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "patch_p99_ms": round(_percentile(latencies, 99) * 1000, 1),
        "patch_max_ms": round(latencies[-1] * 1000, 1),
        "corrupted": corrupted,
    }


def _percentile(sorted_values: list[float], percent: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(percent / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--upload-mib", type=int, default=10)
    parser.add_argument("--chunk-mib", type=int, default=2)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="medpress-ingest-", dir=args.dir))
    try:
        disk = disk_throughput(root, args.size_mib)
        print(f"raw disk (dd bs=8M conv=fsync, {args.size_mib} MiB): {disk:.1f} MiB/s", flush=True)
        server = MedpressProcess(
            root / "var", env={"MEDPRESS_MAX_UPLOAD_SIZE": str(max(args.size_mib, 64) * MIB * 2)}
        )
        with server:
            ingest = asyncio.run(ingest_throughput(server, args.size_mib))
            print(
                f"medpress ingest (8 MiB PATCHes, loopback, {args.size_mib} MiB): "
                f"{ingest:.1f} MiB/s = {ingest / disk:.2f} x raw disk",
                flush=True,
            )
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
        print(
            json.dumps(
                {
                    "disk_mib_s": round(disk, 1),
                    "ingest_mib_s": round(ingest, 1),
                    "ratio": round(ingest / disk, 2),
                    **concurrency,
                }
            )
        )
        return 1 if concurrency["corrupted"] else 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
