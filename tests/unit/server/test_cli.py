"""``medpress serve``: argument parsing and wiring (uvicorn itself is stubbed)."""

import logging
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from server import cli


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        calls.update(app=app, **kwargs)

    monkeypatch.setattr("uvicorn.run", fake_run)
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
