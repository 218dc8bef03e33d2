"""A throwaway PostgreSQL server started by the tests themselves (Debian's packaged binaries).

The cluster lives in a fresh directory under the system temp dir rather than in ``base_dir``:
as root the server must run as the ``postgres`` user, which cannot enter pytest's 0700
``/tmp/pytest-of-root``; a short path also keeps the Unix socket under its length limit.
The server log is copied to ``base_dir`` when the server stops.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.medpress_process import free_port

START_ATTEMPTS = 3


def postgres_bin() -> Path:
    """The newest installed ``/usr/lib/postgresql/<version>/bin``."""
    candidates = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if path.name == "bin" and path.parent.name.isdigit() and (path / "initdb").exists()
    ]
    assert candidates, (
        "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: run `make setup`"
    )
    return max(candidates, key=lambda path: int(path.parent.name))


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_postgres(args), check=False, cwd=cwd, capture_output=True, text=True)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


@contextmanager
def postgres_server(base_dir: Path) -> Iterator[str]:
    """Run a trust-auth PostgreSQL on a free loopback port; yield its ``postgres`` DSN."""
    bin_dir = postgres_bin()
    work = Path(tempfile.mkdtemp(prefix="medpress-pg-"))
    data, log = work / "data", work / "server.log"
    if os.geteuid() == 0:
        shutil.chown(work, user="postgres", group="postgres")
    try:
        initdb = _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=work,
        )
        assert initdb.returncode == 0, f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}"
        pg_ctl = str(bin_dir / "pg_ctl")
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_port()  # another process may take it before postgres binds it: retry
            options = f"-p {port} -k {work} -h 127.0.0.1 -c fsync=off -c max_connections=200"
            started = _run(
                [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30", "start"],
                cwd=work,
            )
            if started.returncode == 0:
                break
            assert attempt < START_ATTEMPTS, (
                f"PostgreSQL did not start:\n{started.stdout}\n{started.stderr}\n"
                f"server log tail ({log}):\n{_tail(log)}"
            )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], cwd=work)
    finally:
        if log.exists():
            shutil.copyfile(log, base_dir / "postgres.log")
        shutil.rmtree(work, ignore_errors=True)


def new_database(dsn: str, template: str | None = None) -> str:
    """Create a database with a random name on the server at ``dsn`` (empty, or a copy of the
    database ``template`` names); return its DSN."""
    name = f"test_{secrets.token_hex(8)}"
    copy = [f"--template={template.rsplit('/', 1)[1]}"] if template else []
    created = subprocess.run(
        [str(postgres_bin() / "createdb"), f"--maintenance-db={dsn}", *copy, name],
        check=False,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, f"createdb failed: {created.stderr}"
    return f"{dsn.rsplit('/', 1)[0]}/{name}"
