"""Load-and-fault benchmark: two instances on one PostgreSQL and one S3 bucket.

    .venv/bin/python bench/cluster.py [--uploads 200] [--upload-mib 10] [--chunk-mib 2]
                                      [--kills 4] [--heads 1000]

It reports (exit code 0 unless an upload was lost or corrupted); it is not a test.
PostgreSQL (Debian's, started here), moto's S3 server (its own process) and two
``medpress serve`` processes run on loopback, sharing this machine's cores.

1. Faults under load: ``--uploads`` uploads of ``--upload-mib`` each, all at once,
   whose PATCHes alternate between the two instances, while one instance at a time
   is SIGKILLed and restarted ``--kills`` times at random moments. A client whose
   request fails asks the other instance for the offset (HEAD) and resumes there.
   Then every upload is downloaded and compared by sha256: completed, lost,
   corrupted; p50/p99 latency of the PATCHes that succeeded.
2. ``--heads`` concurrent HEADs on one upload (half on each instance) while it is
   being written: every offset must lie on a chunk boundary, never below what was
   acknowledged before the HEAD was sent, never beyond the chunk then in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.raw_http import OCTETS, RawConnection, percentile
from tests.support.medpress_process import MedpressProcess, free_port
from tests.support.moto_s3 import CREDENTIALS
from tests.support.postgres import new_database, postgres_server

MIB = 1024 * 1024
RETRYABLE = (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError)


class Instances:
    def __init__(self, processes: list[MedpressProcess]) -> None:
        self.processes = processes
        self.token = processes[0].token("bench")

    async def request(
        self, index: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection to instance ``index`` (as it is now)."""
        process = self.processes[index % len(self.processes)]
        async with RawConnection(process.port, self.token) as connection:
            return await asyncio.wait_for(
                connection.request(method, path, headers, body), timeout=60
            )


async def one_upload(
    cluster: Instances, data: bytes, chunk: int, latencies: list[float], failures: Counter[str]
) -> str:
    turn = random.randrange(2)
    while True:
        try:
            status, headers, _ = await cluster.request(
                turn, "POST", "/files/", {"Upload-Length": str(len(data))}
            )
            if status == 201:
                break
        except RETRYABLE:
            pass
        turn += 1
        await asyncio.sleep(0.2)
    path = headers["location"]
    offset = 0
    while offset < len(data):
        turn += 1
        try:
            started = time.perf_counter()
            status, headers, _ = await cluster.request(
                turn,
                "PATCH",
                path,
                {"Content-Type": OCTETS, "Upload-Offset": str(offset)},
                data[offset : offset + chunk],
            )
            if status == 204:
                latencies.append(time.perf_counter() - started)
                offset = int(headers["upload-offset"])
                continue
            failures[str(status)] += 1
        except RETRYABLE as error:
            failures[type(error).__name__] += 1
        await asyncio.sleep(random.uniform(0.1, 0.5))
        offset = await current_offset(cluster, path, turn + 1)
    return path


async def current_offset(cluster: Instances, path: str, turn: int) -> int:
    while True:
        try:
            status, headers, _ = await cluster.request(turn, "HEAD", path, {})
            if status == 200:
                return int(headers["upload-offset"])
        except RETRYABLE:
            pass
        turn += 1
        await asyncio.sleep(0.2)


async def killer(processes: list[MedpressProcess], kills: int, finished: asyncio.Event) -> int:
    """SIGKILL and restart one instance at a time, at random moments while uploads run."""
    done = 0
    for number in range(kills):
        try:
            await asyncio.wait_for(finished.wait(), timeout=random.uniform(0.5, 4.0))
            return done  # the uploads finished first
        except TimeoutError:
            pass
        victim = processes[number % len(processes)]
        os.kill(victim.pid, signal.SIGKILL)
        await asyncio.to_thread(victim._process.wait)  # type: ignore[union-attr]
        await asyncio.sleep(0.5)
        await asyncio.to_thread(victim.start)
        done += 1
    return done


async def faults_under_load(cluster: Instances, args: argparse.Namespace) -> bool:
    size, chunk = args.upload_mib * MIB, args.chunk_mib * MIB
    payloads = [random.Random(n).randbytes(size) for n in range(args.uploads)]
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    finished = asyncio.Event()
    started = time.perf_counter()
    kills = asyncio.create_task(killer(cluster.processes, args.kills, finished))
    paths = await asyncio.gather(
        *(one_upload(cluster, data, chunk, latencies, failures) for data in payloads)
    )
    wall = time.perf_counter() - started
    finished.set()
    killed = await kills
    completed = lost = corrupted = 0
    for number, path in enumerate(paths):
        try:
            status, _, content = await cluster.request(number, "GET", path, {})
        except RETRYABLE:
            status, content = 0, b""
        if status != 200 or len(content) != size:
            lost += 1
        elif hashlib.sha256(content).digest() != hashlib.sha256(payloads[number]).digest():
            corrupted += 1
        else:
            completed += 1
    latencies.sort()
    print(
        f"faults under load: {args.uploads} uploads x {args.upload_mib} MiB in "
        f"{args.chunk_mib} MiB PATCHes alternating between 2 instances, "
        f"{killed} SIGKILLs + restarts while they ran: "
        f"wall {wall:.1f} s, {args.uploads * args.upload_mib / wall:.1f} MiB/s; "
        f"PATCH p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms ({len(latencies)} succeeded, "
        f"{sum(failures.values())} failed and were resumed: {dict(failures)}); "
        f"completed {completed}, lost {lost}, corrupted {corrupted} (sha256)",
        flush=True,
    )
    return lost == 0 and corrupted == 0


async def head_storm(cluster: Instances, heads: int) -> bool:
    chunk, chunks = MIB, 64
    data = random.Random(7).randbytes(chunk * chunks)
    _, headers, _ = await cluster.request(0, "POST", "/files/", {"Upload-Length": str(len(data))})
    path = headers["location"]
    acked = 0
    bad: list[str] = []

    async def writer() -> None:
        nonlocal acked
        for number in range(chunks):
            status, headers, _ = await cluster.request(
                0,
                "PATCH",
                path,
                {"Content-Type": OCTETS, "Upload-Offset": str(acked)},
                data[number * chunk : (number + 1) * chunk],
            )
            assert status == 204, status
            acked = int(headers["upload-offset"])

    async def head(number: int) -> None:
        await asyncio.sleep(random.uniform(0, 2.0))
        before = acked
        status, headers, _ = await cluster.request(number, "HEAD", path, {})
        offset = int(headers.get("upload-offset", -1))
        if status != 200 or offset % chunk or not before <= offset <= acked + chunk:
            bad.append(f"status {status} offset {offset} (acknowledged {before}..{acked})")

    started = time.perf_counter()
    await asyncio.gather(writer(), *(head(number) for number in range(heads)))
    print(
        f"{heads} concurrent HEADs on one upload being written (both instances): "
        f"{time.perf_counter() - started:.1f} s, wrong offsets: {len(bad)}"
        + (f" e.g. {bad[0]}" if bad else ""),
        flush=True,
    )
    return not bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--upload-mib", type=int, default=10)
    parser.add_argument("--chunk-mib", type=int, default=2)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--heads", type=int, default=1000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="medpress-cluster-"))
    port = free_port()
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(CREDENTIALS)
    try:
        with postgres_server(root) as dsn:
            database = new_database(dsn)
            bucket = f"medpress-{secrets.token_hex(4)}"
            endpoint = f"http://127.0.0.1:{port}"
            _wait_for_moto(endpoint, bucket)
            common = ["--database-url", database, "--storage", "s3", "--s3-bucket", bucket]
            common += ["--s3-endpoint-url", endpoint]
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "medpress"),
                    "migrate",
                    *common,
                    "--data-dir",
                    str(root / "migrate"),
                ],
                check=True,
                capture_output=True,
            )
            secret = secrets.token_hex(32)
            env = {"MEDPRESS_LOCK_WAIT": "2", "MEDPRESS_DB_POOL_SIZE": "20"}
            processes = [
                MedpressProcess(root / f"instance-{n}", env=env, args=common, secret=secret)
                for n in range(2)
            ]
            for process in processes:
                process.start()
            try:
                cluster = Instances(processes)
                ok = asyncio.run(faults_under_load(cluster, args))
                ok = asyncio.run(head_storm(cluster, args.heads)) and ok
            finally:
                for process in processes:
                    process.stop()
        return 0 if ok else 1
    finally:
        moto.terminate()
        moto.wait(timeout=10)


def _wait_for_moto(endpoint: str, bucket: str) -> None:
    from server.storage.s3 import make_client

    client = make_client(endpoint)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_bucket(Bucket=bucket)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
