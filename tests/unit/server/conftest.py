"""Fixtures: a real app from `create_app` over a temporary data dir and public dir."""

import gzip
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.db.database import Database
from server.db.registry import UploadInfo
from server.settings import Settings
from server.storage import FilesystemStorage, Storage

SECRET = "test-secret-0123456789abcdef"
BUILD_ID = "3f2a9c1e"
INDEX_TEMPLATE = (
    '<!doctype html><link rel="stylesheet" href="/app.css">'
    '<script type="module" src="{{VENDOR}}/pyscript/core.js"></script>'
    '<script>const wheels = "{{VENDOR}}/wheels/";</script>'
)
WASM_BYTES = b"\x00asm\x01\x00\x00\x00" + bytes(range(256)) * 64


@pytest.fixture
def public_dir(tmp_path: Path) -> Path:
    public = tmp_path / "public"
    files = {
        "index.html": INDEX_TEMPLATE,
        "app.css": "body { margin: 0 }",
        "js/bypass.js": "export const bypass = true;",
        "main.py": "print('hello')",
        "pyscript.json": '{"packages": []}',
        "vendor/build.json": f'{{"build_id": "{BUILD_ID}", "wheels": ["medpress_client-0.1.0-py3-none-any.whl"]}}',
        "vendor/pyscript/core.js": "export {};",
        "vendor/wheels/medpress_client-0.1.0-py3-none-any.whl": "PK\x03\x04",
        "vendor/worker.mjs": "export {};",
    }
    for name, text in files.items():
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_text(text)
    (public / "vendor/pyodide.wasm").write_bytes(WASM_BYTES)
    (public / "vendor/pyodide.wasm.gz").write_bytes(gzip.compress(WASM_BYTES))  # as the set-up does
    (tmp_path / "outside.txt").write_text("not public")
    return public


@pytest.fixture
def make_settings(tmp_path: Path, public_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "var",
            "secret": SECRET,
            "public_dir": public_dir,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture(params=["sqlite-fs", "pg-s3"])
def deployment(request: pytest.FixtureRequest) -> str:
    """Every HTTP test runs on both real deployments: the embedded default (SQLite +
    filesystem) and several-instance components (PostgreSQL + S3 on moto's server)."""
    return request.param


@pytest.fixture
def storage(deployment: str, request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """The memory store, a test double, is held to the same contract in test_storage_contract."""
    if deployment == "pg-s3":
        return request.getfixturevalue("s3_storage")
    return FilesystemStorage(tmp_path / "var" / "uploads")


@pytest.fixture
def app(
    make_settings: Callable[..., Settings],
    storage: Storage,
    deployment: str,
    request: pytest.FixtureRequest,
) -> Litestar:
    database = request.getfixturevalue("database_url") if deployment == "pg-s3" else None
    settings = make_settings(max_upload_size=64 * 1024 * 1024, database_url=database)
    return create_app(settings, storage=storage)


@pytest.fixture
async def running_app(app: Litestar) -> AsyncIterator[Litestar]:
    """The app with its lifespan running (database open), for raw ASGI requests."""
    async with app.lifespan():
        yield app


@pytest.fixture
def served(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """The app with its lifespan running; the clients below share its event loop."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def stored(served: TestClient[Litestar]) -> Callable[[str], UploadInfo | None]:
    """``stored(upload_id)``: the upload's registry row, read on the app's own event loop."""
    registry = served.app.state.registry
    return lambda upload_id: served.blocking_portal.call(registry.get, upload_id)


def _browser(served: TestClient[Litestar], signed_in: bool) -> Iterator[httpx.Client]:
    # Not closed: closing would close the transport the TestClient owns.
    browser = httpx.Client(transport=served._transport, base_url=served.base_url)
    if signed_in:
        assert browser.get("/").status_code == 200
    yield browser


@pytest.fixture
def anonymous(served: TestClient[Litestar]) -> Iterator[httpx.Client]:
    """A client without a session cookie."""
    yield from _browser(served, signed_in=False)


@pytest.fixture
def client(served: TestClient[Litestar]) -> Iterator[httpx.Client]:
    """A signed-in client: it has loaded the page, so it holds a session cookie."""
    yield from _browser(served, signed_in=True)


@pytest.fixture
def stranger(served: TestClient[Litestar]) -> Iterator[httpx.Client]:
    """Another signed-in client, with a different session."""
    yield from _browser(served, signed_in=True)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, with fake AWS credentials in the environment."""
    from tests.support.moto_s3 import aws_credentials, moto_server

    with aws_credentials(), moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str):  # type: ignore[no-untyped-def]
    from server.storage.s3 import make_client

    return make_client(s3_endpoint)


@pytest.fixture
def s3_storage(s3_client) -> Storage:  # type: ignore[no-untyped-def]
    from server.storage.s3 import S3Storage
    from tests.support.moto_s3 import new_bucket

    return S3Storage(s3_client, new_bucket(s3_client), prefix="uploads/")


@pytest.fixture
def bearer(served: TestClient[Litestar]) -> Callable[..., httpx.Client]:
    """``bearer(user, case=None, admin=False)``: a client that proves who it is with a token."""
    from server.auth.tokens import mint_token

    def make(user: str, case: str | None = None, admin: bool = False) -> httpx.Client:
        token = mint_token(SECRET, user, case, admin=admin)
        return httpx.Client(
            transport=served._transport,
            base_url=served.base_url,
            headers={"Authorization": f"Bearer {token}"},
        )

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An opened registry database: the embedded SQLite, and a fresh PostgreSQL one."""
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else None
    database = Database(url or f"sqlite:///{tmp_path}/medpress.db")
    await database.open()
    yield database
    await database.close()
