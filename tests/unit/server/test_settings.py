"""Settings from the environment, CLI overrides, the persisted secret."""

import stat
from pathlib import Path

import pytest

from server.settings import DEFAULT_MAX_UPLOAD_SIZE, REPO_ROOT, SettingsError, load_settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.data_dir == tmp_path / "var"
    assert settings.max_upload_size == DEFAULT_MAX_UPLOAD_SIZE == 4 * 1024**3
    assert settings.public_dir == REPO_ROOT / "public"


def test_environment(tmp_path: Path) -> None:
    env = {
        "MEDPRESS_HOST": "0.0.0.0",
        "MEDPRESS_PORT": "9000",
        "MEDPRESS_DATA_DIR": str(tmp_path / "data"),
        "MEDPRESS_SECRET": "x" * 40,
        "MEDPRESS_MAX_UPLOAD_SIZE": "1000",
        "MEDPRESS_PUBLIC_DIR": str(tmp_path / "pub"),
    }
    settings = load_settings(env)
    assert (settings.host, settings.port, settings.secret, settings.max_upload_size) == (
        "0.0.0.0",
        9000,
        "x" * 40,
        1000,
    )
    assert settings.data_dir == tmp_path / "data"
    assert settings.uploads_dir == tmp_path / "data" / "uploads"
    assert settings.public_dir == tmp_path / "pub"
    assert not (tmp_path / "data" / "secret").exists()


def test_overrides_beat_the_environment(tmp_path: Path) -> None:
    env = {
        "MEDPRESS_HOST": "0.0.0.0",
        "MEDPRESS_PORT": "9000",
        "MEDPRESS_DATA_DIR": str(tmp_path / "env"),
    }
    settings = load_settings(env, host="localhost", port=8765, data_dir=tmp_path / "cli")
    assert (settings.host, settings.port, settings.data_dir) == (
        "localhost",
        8765,
        tmp_path / "cli",
    )


def test_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    first = load_settings({"MEDPRESS_DATA_DIR": str(tmp_path)})
    second = load_settings({"MEDPRESS_DATA_DIR": str(tmp_path)})
    assert first.secret == second.secret
    assert len(first.secret) == 64
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({"MEDPRESS_DATA_DIR": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDPRESS_PORT", "http"),
        ("MEDPRESS_PORT", "0"),
        ("MEDPRESS_PORT", "70000"),
        ("MEDPRESS_MAX_UPLOAD_SIZE", "-1"),
        ("MEDPRESS_MAX_UPLOAD_SIZE", "4GiB"),
        ("MEDPRESS_SECRET", "short"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(
        SettingsError, match=name if name != "MEDPRESS_SECRET" else "MEDPRESS_SECRET"
    ):
        load_settings({"MEDPRESS_DATA_DIR": str(tmp_path), name: value})


def test_upload_server_settings(tmp_path: Path) -> None:
    env = {
        "MEDPRESS_DATA_DIR": str(tmp_path),
        "MEDPRESS_AUTH": "token",
        "MEDPRESS_STORAGE": "s3",
        "MEDPRESS_S3_BUCKET": "clinic-uploads",
        "MEDPRESS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "MEDPRESS_S3_PREFIX": "medpress/",
        "MEDPRESS_UPLOAD_EXPIRY": "3600",
        "MEDPRESS_SWEEP_INTERVAL": "0.5",
        "MEDPRESS_CORS_ORIGINS": "https://a.example, https://b.example",
        "MEDPRESS_LOCK_WAIT": "2.5",
        "MEDPRESS_LOCK_STALE_AFTER": "30",
        "MEDPRESS_CHECKPOINT_SECONDS": "1",
    }
    settings = load_settings(env)
    assert (settings.auth_mode, settings.storage, settings.s3_bucket) == (
        "token",
        "s3",
        "clinic-uploads",
    )
    assert settings.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.s3_prefix == "medpress/"
    assert (settings.upload_expiry, settings.sweep_interval) == (3600, 0.5)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert (settings.lock_wait, settings.lock_stale_after, settings.checkpoint_seconds) == (
        2.5,
        30,
        1,
    )


def test_upload_server_defaults(tmp_path: Path) -> None:
    settings = load_settings({"MEDPRESS_DATA_DIR": str(tmp_path)})
    assert (settings.auth_mode, settings.storage, settings.cors_origins) == (
        "dev",
        "filesystem",
        (),
    )
    assert settings.upload_expiry == 24 * 60 * 60


def test_cli_overrides_storage(tmp_path: Path) -> None:
    settings = load_settings(
        {"MEDPRESS_DATA_DIR": str(tmp_path)},
        storage="s3",
        s3_bucket="abc",
        s3_endpoint_url="http://127.0.0.1:1",
    )
    assert (settings.storage, settings.s3_bucket, settings.s3_endpoint_url) == (
        "s3",
        "abc",
        "http://127.0.0.1:1",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDPRESS_AUTH", "none"),
        ("MEDPRESS_STORAGE", "ftp"),
        ("MEDPRESS_UPLOAD_EXPIRY", "1d"),
        ("MEDPRESS_UPLOAD_EXPIRY", "0"),
        ("MEDPRESS_LOCK_WAIT", "-1"),
        ("MEDPRESS_S3_PART_SIZE", "1024"),
        ("MEDPRESS_S3_PART_SIZE", str(65 * 1024 * 1024)),  # buffered in memory: bounded
        ("MEDPRESS_DATABASE_URL", "mysql://db/medpress"),
        ("MEDPRESS_DATABASE_URL", "not a url"),
        ("MEDPRESS_DB_POOL_SIZE", "0"),
        ("MEDPRESS_PUBLIC_URL", "medpress.example.org"),
        ("MEDPRESS_MAX_CONNECTIONS", "1"),
        ("MEDPRESS_MAX_ACTIVE_UPLOADS", "0"),
        ("MEDPRESS_FAULTS", "kill-everything"),
    ],
)
def test_bad_upload_server_values_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({"MEDPRESS_DATA_DIR": str(tmp_path), name: value})


@pytest.mark.parametrize("bucket", [None, "ab", "Upper", "-x-"])
def test_s3_needs_a_valid_bucket(tmp_path: Path, bucket: str | None) -> None:
    env = {"MEDPRESS_DATA_DIR": str(tmp_path), "MEDPRESS_STORAGE": "s3"}
    if bucket:
        env["MEDPRESS_S3_BUCKET"] = bucket
    with pytest.raises(SettingsError, match="bucket"):
        load_settings(env)


def test_operations_settings(tmp_path: Path) -> None:
    env = {
        "MEDPRESS_DATA_DIR": str(tmp_path),
        "MEDPRESS_DATABASE_URL": "postgresql://medpress:pw@db.internal:5432/medpress",
        "MEDPRESS_DB_POOL_SIZE": "20",
        "MEDPRESS_DB_POOL_TIMEOUT": "5",
        "MEDPRESS_PUBLIC_URL": "https://medpress.example.org/",
        "MEDPRESS_MAX_CONNECTIONS": "400",
        "MEDPRESS_SHUTDOWN_GRACE": "20",
        "MEDPRESS_MAX_ACTIVE_UPLOADS": "5",
        "MEDPRESS_MAX_BYTES_PER_DAY": "1000000",
        "MEDPRESS_S3_PART_SIZE": str(16 * 1024 * 1024),
    }
    settings = load_settings(env)
    assert settings.database == "postgresql://medpress:pw@db.internal:5432/medpress"
    assert (settings.db_pool_size, settings.db_pool_timeout) == (20, 5)
    assert settings.public_url == "https://medpress.example.org" and settings.behind_https
    assert (settings.max_connections, settings.shutdown_grace) == (400, 20)
    assert (settings.max_active_uploads, settings.max_bytes_per_day) == (5, 1_000_000)
    assert settings.s3_part_size == 16 * 1024 * 1024


def test_the_embedded_database_lives_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"MEDPRESS_DATA_DIR": str(tmp_path)})
    assert settings.database == f"sqlite+aiosqlite:///{tmp_path.resolve()}/medpress.db"
    assert not settings.behind_https
