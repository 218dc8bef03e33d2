"""Server settings: one frozen struct, read once from the environment (CLI flags win).

MEDPRESS_HOST             default 127.0.0.1
MEDPRESS_PORT             default 8000
MEDPRESS_DATA_DIR         default ./var
MEDPRESS_SECRET           default: generated once, kept in <data dir>/secret (0600)
MEDPRESS_MAX_UPLOAD_SIZE  bytes, default 4 GiB
MEDPRESS_PUBLIC_DIR       default <repo>/public
"""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import msgspec

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAX_UPLOAD_SIZE = 4 * 1024**3
MIN_SECRET_LENGTH = 16


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names it."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path
    secret: str
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE
    public_dir: Path = REPO_ROOT / "public"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: Path | None = None,
) -> Settings:
    """Settings from ``env`` (default ``os.environ``); keyword arguments override it."""
    env = os.environ if env is None else env
    resolved_data_dir = (data_dir or Path(env.get("MEDPRESS_DATA_DIR", "./var"))).resolve()
    return Settings(
        host=host or env.get("MEDPRESS_HOST", "127.0.0.1"),
        port=port if port is not None else _integer(env, "MEDPRESS_PORT", 8000, 1, 65535),
        data_dir=resolved_data_dir,
        secret=_secret(env.get("MEDPRESS_SECRET"), resolved_data_dir),
        max_upload_size=_integer(
            env, "MEDPRESS_MAX_UPLOAD_SIZE", DEFAULT_MAX_UPLOAD_SIZE, 0, 2**63 - 1
        ),
        public_dir=Path(env.get("MEDPRESS_PUBLIC_DIR", REPO_ROOT / "public")).resolve(),
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


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not raw.strip().isascii() or not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {raw!r}.")
    return int(raw)
