"""The ``medpress`` commands: argument parsing and wiring (serving itself is stubbed)."""

import logging
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server import cli
from server.app import create_app
from server.auth.tokens import mint_token
from server.db.database import Database
from server.db.engine import sqlite_url
from server.db.registry import UploadInfo
from server.storage import new_upload_id


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}

    def fake_serve(app: Any, settings: Any) -> None:
        calls.update(app=app, host=settings.host, port=settings.port)

    monkeypatch.setattr("server.serving.serve", fake_serve)
    for name in ("MEDPRESS_HOST", "MEDPRESS_PORT", "MEDPRESS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_serve(served: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="medpress")
    assert cli.main(["serve", "--port", "8765", "--data-dir", str(tmp_path)]) == 0
    assert isinstance(served["app"], Litestar)
    assert (served["host"], served["port"]) == ("127.0.0.1", 8765)
    assert "http://127.0.0.1:8765/" in caplog.text
    assert (tmp_path / "secret").exists()


def test_bad_setting_exits_with_a_message(served, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEDPRESS_MAX_UPLOAD_SIZE", "lots")
    assert cli.main(["serve", "--data-dir", str(tmp_path)]) == 2
    assert "MEDPRESS_MAX_UPLOAD_SIZE" in capsys.readouterr().err
    assert not served


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([])
    assert exit_.value.code == 2


def test_token_prints_a_verifiable_token_last(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from server.auth.tokens import verified_claims
    from server.settings import load_settings

    monkeypatch.delenv("MEDPRESS_SECRET", raising=False)
    assert (
        cli.main(["token", "--user", "dr.who", "--case", "C-42", "--data-dir", str(tmp_path)]) == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    secret = load_settings({"MEDPRESS_DATA_DIR": str(tmp_path)}).secret
    claims = verified_claims(token, secret)
    assert claims is not None and (claims.sub, claims.case) == ("dr.who", "C-42")


def test_token_refuses_bad_names(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["token", "--user", "a b", "--data-dir", str(tmp_path)]) == 2
    assert "--user" in capsys.readouterr().err


def test_serve_with_s3_needs_a_bucket(served, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["serve", "--storage", "s3", "--data-dir", str(tmp_path)]) == 2
    assert "bucket" in capsys.readouterr().err
    assert not served


def test_serve_with_s3(served, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    args = ["serve", "--storage", "s3", "--s3-bucket", "clinic-uploads"]
    args += ["--s3-endpoint-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path)]
    assert cli.main(args) == 0
    assert isinstance(served["app"], Litestar)


def test_uploads_lists_owner_progress_and_case(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    upload_id = new_upload_id()

    async def make() -> None:
        database = Database(sqlite_url(tmp_path))
        await database.open()
        row = UploadInfo(id=upload_id, owner="user:alice", length=5, case_ref="C-7")
        await database.registry.add(row)
        await database.close()

    anyio.run(make)
    assert cli.main(["uploads", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{upload_id}\tuser:alice\tpartial\t0/5\tC-7" in out


def test_migrate_imports_the_old_info_layout(tmp_path: Path, make_settings, capsys) -> None:  # type: ignore[no-untyped-def]
    """An existing ./var from before the registry keeps working after `medpress migrate`."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    done, partial = new_upload_id(), new_upload_id()
    (uploads / done).write_bytes(b"hello")
    (uploads / f"{done}.info").write_text(
        f'{{"id":"{done}","length":5,"offset":5,"owner":"user:alice","metadata":'
        '{"filename":"a.mp4"},"case_ref":"C-7","finished":true,"created_at":1.0,"updated_at":2.0}'
    )
    (uploads / partial).write_bytes(b"ab")
    (uploads / f"{partial}.info").write_text(
        f'{{"id":"{partial}","length":4,"offset":2,"owner":"user:alice",'
        f'"updated_at":{time.time()}}}'
    )
    assert cli.main(["migrate", "--data-dir", str(tmp_path)]) == 0
    assert "2 uploads imported" in capsys.readouterr().out
    assert not list(uploads.glob("*.info"))
    assert cli.main(["migrate", "--data-dir", str(tmp_path)]) == 0  # again: nothing to do
    assert "0 uploads imported" in capsys.readouterr().out
    assert cli.main(["uploads", "--data-dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert f"{done}\tuser:alice\tfinished\t5/5\tC-7" in listing
    assert f"{partial}\tuser:alice\tpartial\t2/4\t-" in listing

    settings = make_settings(data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        alice = {"Authorization": f"Bearer {mint_token(settings.secret, 'alice')}"}
        assert client.get(f"/files/{done}", headers=alice).content == b"hello"
        head = client.head(f"/files/{partial}", headers={**alice, "Tus-Resumable": "1.0.0"})
        assert head.headers["Upload-Offset"] == "2"
