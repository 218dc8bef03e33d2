"""Server settings: one frozen struct, read once from the environment (CLI flags win).

MEDPRESS_HOST             default 127.0.0.1
MEDPRESS_PORT             default 8000
MEDPRESS_DATA_DIR         default ./var
MEDPRESS_SECRET           default: generated once, kept in <data dir>/secret (0600)
MEDPRESS_MAX_UPLOAD_SIZE  bytes, default 4 GiB
MEDPRESS_PUBLIC_DIR       default <repo>/public
MEDPRESS_AUTH             dev (default: session cookie or Bearer token) | token (Bearer only)
MEDPRESS_STORAGE          filesystem (default, under <data dir>/uploads) | s3
MEDPRESS_S3_BUCKET        bucket name (s3 storage)
MEDPRESS_S3_ENDPOINT_URL  S3-compatible endpoint, default AWS (credentials: the AWS_* environment)
MEDPRESS_S3_PREFIX        key prefix, default "uploads/"
MEDPRESS_S3_PART_SIZE     bytes per multipart part, 5 MiB (default) to 64 MiB
MEDPRESS_UPLOAD_EXPIRY    seconds an unfinished upload lives after its last write, default 86400
MEDPRESS_SWEEP_INTERVAL   seconds between sweeps for expired uploads, default 600
MEDPRESS_CORS_ORIGINS     comma-separated origins allowed cross-origin, default none (same-origin)
MEDPRESS_LOCK_WAIT        seconds a request waits for an upload busy with another, default 1
MEDPRESS_LOCK_STALE_AFTER seconds without body bytes after which a busy PATCH yields, default 10
MEDPRESS_CHECKPOINT_SECONDS  filesystem: progress of a long PATCH is recorded this often, default 2
MEDPRESS_DATABASE_URL     postgresql://user:password@host:port/db for several instances;
                          default: SQLite in <data dir>/medpress.db
MEDPRESS_DB_POOL_SIZE     database connections per instance (PostgreSQL), default 10
MEDPRESS_DB_POOL_TIMEOUT  seconds to wait for a free database connection, default 30
MEDPRESS_PUBLIC_URL       the address clinicians use, e.g. https://medpress.example.org
                          (https: the session cookie is marked Secure)
MEDPRESS_MAX_CONNECTIONS  concurrent connections and requests per instance, default 1000 (503 beyond)
MEDPRESS_SHUTDOWN_GRACE   seconds in-flight requests get to finish on SIGTERM, default 30
MEDPRESS_MAX_ACTIVE_UPLOADS  unfinished uploads one principal may have at once, default 100 (429)
MEDPRESS_MAX_BYTES_PER_DAY   bytes one principal may start uploading per 24 h, default 200 GiB (429)
MEDPRESS_BYPASS_WEBHOOK_URL  http(s) URL that receives a JSON POST for every emergency bypass
MEDPRESS_FLAGS_URL        an Unleash server whose client API supplies the flags (instead of <data-dir>/flags.json)
MEDPRESS_FLAGS_TOKEN      its client API token
MEDPRESS_ANALYTICS_RETENTION_DAYS  days analytics events are kept, default 90
MEDPRESS_LOG_LEVEL        DEBUG | INFO (default) | WARNING | ERROR | CRITICAL
MEDPRESS_LOG_FILE         write the JSON log lines to this file (rotated) instead of stderr
MEDPRESS_LOG_MAX_BYTES    bytes a log file grows to before it is rotated, default 10 MiB (min 1 KiB)
MEDPRESS_LOG_BACKUPS      rotated log files kept (medpress.log.1 … .N), 1 to 1000, default 5
MEDPRESS_FAULTS           tests only: fault points to arm (see server/faults.py)
"""

import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec
from sqlalchemy.exc import ArgumentError

from server import faults
from server.db.engine import DatabaseUrlError, normalized_url, sqlite_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAX_UPLOAD_SIZE = 4 * 1024**3
DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_SECRET_LENGTH = 16
MIN_S3_PART_SIZE = 5 * 1024 * 1024
MAX_S3_PART_SIZE = 64 * 1024 * 1024  # buffered in memory per PATCH: keep it bounded
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,3})?")


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path
    secret: str
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE
    public_dir: Path = REPO_ROOT / "public"
    auth_mode: Literal["dev", "token"] = "dev"
    storage: Literal["filesystem", "s3"] = "filesystem"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_prefix: str = "uploads/"
    s3_part_size: int = MIN_S3_PART_SIZE
    upload_expiry: float = 24 * 60 * 60
    sweep_interval: float = 600.0
    cors_origins: tuple[str, ...] = ()
    lock_wait: float = 1.0
    lock_stale_after: float = 10.0
    checkpoint_seconds: float = 2.0
    database_url: str | None = None
    db_pool_size: int = 10
    db_pool_timeout: float = 30.0
    faults: dict[str, int] = {}
    public_url: str | None = None
    bypass_webhook_url: str | None = None
    max_connections: int = 1000
    shutdown_grace: float = 30.0
    max_active_uploads: int = 100
    max_bytes_per_day: int = 200 * 1024**3
    flags_url: str | None = None
    flags_token: str | None = None
    analytics_retention_days: float = 90.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_file: Path | None = None
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    log_backups: int = 5

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def behind_https(self) -> bool:
        return (self.public_url or "").startswith("https://")

    @property
    def database(self) -> str:
        """The database URL: PostgreSQL if given, else SQLite in the data dir."""
        return self.database_url or sqlite_url(self.data_dir)


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: Path | None = None,
    storage: str | None = None,
    s3_bucket: str | None = None,
    s3_endpoint_url: str | None = None,
    database_url: str | None = None,
    flags_url: str | None = None,
) -> Settings:
    """Settings from ``env`` (default ``os.environ``); keyword arguments override it."""
    env = os.environ if env is None else env
    resolved_data_dir = (data_dir or Path(env.get("MEDPRESS_DATA_DIR", "./var"))).resolve()
    storage_kind = _choice(env, "MEDPRESS_STORAGE", storage, ("filesystem", "s3"))
    bucket = s3_bucket or env.get("MEDPRESS_S3_BUCKET") or None
    if storage_kind == "s3" and (bucket is None or _BUCKET.fullmatch(bucket) is None):
        raise SettingsError(
            "S3 storage needs a bucket name (--s3-bucket or MEDPRESS_S3_BUCKET): "
            "3 to 63 lowercase letters, digits, dots or hyphens."
        )
    return Settings(
        host=host or env.get("MEDPRESS_HOST", "127.0.0.1"),
        port=port if port is not None else _integer(env, "MEDPRESS_PORT", 8000, 1, 65535),
        data_dir=resolved_data_dir,
        secret=_secret(env.get("MEDPRESS_SECRET"), resolved_data_dir),
        max_upload_size=_integer(
            env, "MEDPRESS_MAX_UPLOAD_SIZE", DEFAULT_MAX_UPLOAD_SIZE, 0, 2**63 - 1
        ),
        public_dir=Path(env.get("MEDPRESS_PUBLIC_DIR", REPO_ROOT / "public")).resolve(),
        auth_mode=_choice(env, "MEDPRESS_AUTH", None, ("dev", "token")),  # type: ignore[arg-type]
        storage=storage_kind,  # type: ignore[arg-type]
        s3_bucket=bucket,
        s3_endpoint_url=s3_endpoint_url or env.get("MEDPRESS_S3_ENDPOINT_URL") or None,
        s3_prefix=env.get("MEDPRESS_S3_PREFIX", "uploads/"),
        s3_part_size=_integer(
            env, "MEDPRESS_S3_PART_SIZE", MIN_S3_PART_SIZE, MIN_S3_PART_SIZE, MAX_S3_PART_SIZE
        ),
        upload_expiry=_seconds(env, "MEDPRESS_UPLOAD_EXPIRY", 24 * 60 * 60, minimum=0.001),
        sweep_interval=_seconds(env, "MEDPRESS_SWEEP_INTERVAL", 600, minimum=0.001),
        cors_origins=tuple(
            origin.strip()
            for origin in env.get("MEDPRESS_CORS_ORIGINS", "").split(",")
            if origin.strip()
        ),
        lock_wait=_seconds(env, "MEDPRESS_LOCK_WAIT", 1),
        lock_stale_after=_seconds(env, "MEDPRESS_LOCK_STALE_AFTER", 10),
        checkpoint_seconds=_seconds(env, "MEDPRESS_CHECKPOINT_SECONDS", 2),
        database_url=_database_url(database_url or env.get("MEDPRESS_DATABASE_URL") or None),
        db_pool_size=_integer(env, "MEDPRESS_DB_POOL_SIZE", 10, 1, 500),
        db_pool_timeout=_seconds(env, "MEDPRESS_DB_POOL_TIMEOUT", 30, minimum=0.1),
        faults=_faults(env.get("MEDPRESS_FAULTS", "")),
        public_url=_url(env.get("MEDPRESS_PUBLIC_URL"), "MEDPRESS_PUBLIC_URL"),
        bypass_webhook_url=_url(
            env.get("MEDPRESS_BYPASS_WEBHOOK_URL"), "MEDPRESS_BYPASS_WEBHOOK_URL"
        ),
        max_connections=_integer(env, "MEDPRESS_MAX_CONNECTIONS", 1000, 10, 1_000_000),
        shutdown_grace=_seconds(env, "MEDPRESS_SHUTDOWN_GRACE", 30),
        max_active_uploads=_integer(env, "MEDPRESS_MAX_ACTIVE_UPLOADS", 100, 1, 1_000_000),
        max_bytes_per_day=_integer(env, "MEDPRESS_MAX_BYTES_PER_DAY", 200 * 1024**3, 1, 2**63 - 1),
        flags_url=_url(flags_url or env.get("MEDPRESS_FLAGS_URL"), "MEDPRESS_FLAGS_URL"),
        flags_token=env.get("MEDPRESS_FLAGS_TOKEN") or None,
        analytics_retention_days=_seconds(
            env, "MEDPRESS_ANALYTICS_RETENTION_DAYS", 90, minimum=0.001, unit="days"
        ),
        log_level=_log_level(env),  # type: ignore[arg-type]
        log_file=Path(env["MEDPRESS_LOG_FILE"]).resolve() if env.get("MEDPRESS_LOG_FILE") else None,
        log_max_bytes=_integer(env, "MEDPRESS_LOG_MAX_BYTES", DEFAULT_LOG_MAX_BYTES, 1024, 2**40),
        log_backups=_integer(env, "MEDPRESS_LOG_BACKUPS", 5, 1, 1000),
    )


def load_or_create_secret(data_dir: Path) -> str:
    """The secret in ``<data_dir>/secret``, created (mode 0600) on first use."""
    path = data_dir / "secret"
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(32))
        file.flush()
        os.fsync(file.fileno())
    return path.read_text(encoding="ascii").strip()


def _secret(from_env: str | None, data_dir: Path) -> str:
    secret = from_env if from_env is not None else load_or_create_secret(data_dir)
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"MEDPRESS_SECRET (or {data_dir}/secret) must be at least {MIN_SECRET_LENGTH} characters."
        )
    return secret


def _database_url(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        normalized_url(url)
    except (DatabaseUrlError, ArgumentError):
        raise SettingsError(
            "--database-url (MEDPRESS_DATABASE_URL) must look like "
            "postgresql://user:password@host:5432/medpress."
        ) from None
    return url


def _url(url: str | None, name: str) -> str | None:
    if not url:
        return None
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise SettingsError(f"{name} must be an http:// or https:// address, not {url!r}.")
    return url.rstrip("/") if name == "MEDPRESS_PUBLIC_URL" else url


def _faults(spec: str) -> dict[str, int]:
    try:
        return faults.parse(spec)
    except faults.FaultSpecError as error:
        raise SettingsError(str(error)) from None


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.strip().isascii() or not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)


def _seconds(
    env: Mapping[str, str], name: str, default: float, minimum: float = 0.0, unit: str = "seconds"
) -> float:
    raw = env.get(name)
    if raw is None:
        return float(default)
    if _SECONDS.fullmatch(raw.strip()) is None or float(raw) < minimum:
        raise SettingsError(f"{name} must be a number of {unit} (at least {minimum}), not {raw!r}.")
    return float(raw)


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("MEDPRESS_LOG_LEVEL", "INFO").strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"MEDPRESS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, "
            f"not {env['MEDPRESS_LOG_LEVEL']!r}."
        )
    return level


def _choice(
    env: Mapping[str, str], name: str, override: str | None, allowed: tuple[str, ...]
) -> str:
    value = override or env.get(name, allowed[0])
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value
