"""A black-box tus 1.0 conformance suite: pytest over HTTP against any tus server.

    pytest tests/conformance                                     # starts medpress itself
    pytest tests/conformance --tus-url http://127.0.0.1:1080/files/ \
        [--tus-header "Authorization: Bearer ..."]               # any tus server (e.g. tusd)

(or ``TUS_URL`` and ``TUS_HEADERS``, one ``Name: value`` per line). Without a
URL, medpress is started on a free loopback port twice, as the embedded default
(SQLite + filesystem) and as a cluster would run it (PostgreSQL + S3 on moto's
server), and the suite also checks medpress's own rules (every
required extension advertised, ownership, metadata allow-list). Against another
server, tests of an extension it does not advertise in OPTIONS are skipped, and
medpress-only rules are skipped with a reason that says so.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conformance.target import TusTarget
from tests.support.medpress_process import MedpressProcess
from tests.support.postgres import new_database


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tus conformance")
    group.addoption("--tus-url", help="creation URL of the tus server under test (TUS_URL)")
    group.addoption(
        "--tus-header",
        action="append",
        default=[],
        help="'Name: value' sent with every request, e.g. auth (TUS_HEADERS, one per line)",
    )


def _option(config: pytest.Config, name: str, default: object) -> object:
    # getoption's default covers runs where this conftest was not an initial one
    return config.getoption(name, default=default)


def _headers(lines: list[str]) -> dict[str, str]:
    headers = {}
    for line in lines:
        name, separator, value = line.partition(":")
        if not separator:
            raise pytest.UsageError(f"--tus-header wants 'Name: value', not {line!r}")
        headers[name.strip()] = value.strip()
    return headers


def _targets(config: pytest.Config) -> list[str]:
    url = _option(config, "--tus-url", None) or os.environ.get("TUS_URL")
    return ["external"] if url else ["medpress-sqlite-filesystem", "medpress-postgres-s3"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tus" in metafunc.fixturenames:
        metafunc.parametrize("tus_kind", _targets(metafunc.config), scope="session", indirect=True)


@pytest.fixture(scope="session")
def tus_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def tus(
    tus_kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TusTarget]:
    if tus_kind == "external":
        url = _option(request.config, "--tus-url", None) or os.environ["TUS_URL"]
        lines = list(_option(request.config, "--tus-header", []))  # type: ignore[arg-type]
        lines += [line for line in os.environ.get("TUS_HEADERS", "").splitlines() if line.strip()]
        target = TusTarget(str(url), _headers(lines))
        yield target
        target.close()
        return
    database = None
    if tus_kind == "medpress-postgres-s3":
        template = request.getfixturevalue("migrated_template")
        database = new_database(request.getfixturevalue("postgres_dsn"), template=template)
    with _medpress(tus_kind, tmp_path_factory.mktemp(tus_kind), database) as server:
        target = TusTarget(
            f"{server.base_url}/files/",
            {"Authorization": f"Bearer {server.token('conformance')}"},
            is_medpress=True,
            other_headers={"Authorization": f"Bearer {server.token('someone-else')}"},
        )
        yield target
        target.close()


def _medpress(kind: str, root: Path, database_url: str | None) -> MedpressProcess:
    env = {"MEDPRESS_MAX_UPLOAD_SIZE": str(64 * 1024 * 1024), "MEDPRESS_LOCK_WAIT": "0.5"}
    if kind == "medpress-sqlite-filesystem":
        return MedpressProcess(root / "var", env=env)
    assert database_url is not None
    from tests.support.moto_s3 import CREDENTIALS, moto_server, new_bucket

    moto = moto_server()
    endpoint = moto.__enter__()
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
    )
    server = _StopsMoto(
        root / "var",
        env={**env, **CREDENTIALS},
        args=["--storage", "s3", "--s3-bucket", new_bucket(s3), "--s3-endpoint-url", endpoint]
        + ["--database-url", database_url],
    )
    server.moto = moto
    return server


class _StopsMoto(MedpressProcess):
    moto: object

    def stop(self) -> None:
        super().stop()
        self.moto.__exit__(None, None, None)  # type: ignore[attr-defined]


@pytest.fixture
def requires(tus: TusTarget) -> Callable[[str], None]:
    """``requires("checksum")``: skip unless the server advertises that extension."""
    advertised = tus.extensions()

    def check(extension: str) -> None:
        if extension not in advertised:
            pytest.skip(f"the server does not advertise the tus '{extension}' extension")

    return check


@pytest.fixture
def medpress_only(tus: TusTarget) -> None:
    if not tus.is_medpress:
        pytest.skip("a medpress rule, not a tus requirement")
