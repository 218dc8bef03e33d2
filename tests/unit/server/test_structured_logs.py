"""Structured logs: JSON lines, request ids and timing, rotation, and no patient data.

The middleware is exercised through the real app from `create_app`, wired here the way
``server/app.py`` installs it (inside the method override), so these tests do not depend on
that wiring; the end-to-end test runs the real ``medpress serve`` in a subprocess.
"""

import base64
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

from server import cli
from server.app import create_app
from server.auth.tokens import mint_token
from server.db.registry import MemoryRegistry
from server.logs import configure_logging, request_logging, scrub_text, scrub_value
from server.logs.json_format import JsonFormatter
from server.logs.scrub import ScrubFilter, scrub_exception_text
from server.settings import Settings, SettingsError, load_settings
from server.storage import MemoryStorage
from tests.support.medpress_process import MedpressProcess

from .conftest import SECRET
from .tus_requests import OCTETS, TUS, metadata

UPLOAD_ID = "0123456789abcdef0123456789abcdef"
NAME = "Maria Silva prontuario 4471.mp4"
CASE = "CASE-4471"
NOTE = "bleeding after fall"
FIRE = "disk on fire"  # an error's detail (source lines in a traceback show only the name)
LEAKS = (NAME, "Maria", "Silva", "prontuario", CASE, NOTE, "bleeding")
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def assert_no_leak(text: str) -> None:
    for leak in (*LEAKS, b64(NAME), b64(CASE), b64(NOTE)):
        assert leak not in text, leak


# --- the scrubber -------------------------------------------------------------------------

# Lines the server writes today (message format and arguments as in the code): all survive.
KEPT = [
    ("upload created id=%s length=%s", (UPLOAD_ID, 4)),
    ("upload chunk id=%s offset=%d..%d", (UPLOAD_ID, 0, 4)),
    ("upload complete id=%s size=%d", (UPLOAD_ID, 4)),
    ("upload removed id=%s reason=%s", (UPLOAD_ID, "expired")),
    ("storage failed id=%s error=%s", (UPLOAD_ID, "TimeoutError")),
    ("sweep removed %d uploads", (3,)),
    ("emergency bypass webhook failed upload=%s attempt=%d error=%s", (UPLOAD_ID, 2, "URLError")),
    ("advisory lock connection lost (%s); locks lost: %s", ("closed", f"{UPLOAD_ID}, {'f' * 32}")),
    ("the Unleash server answered %s; the last good state stays", (503,)),
    ("flag definitions taken up from %s", ("flags.json",)),
    (
        "medpress serving http://%s:%d/ (uploads in %s, auth %s)",
        ("127.0.0.1", 8000, "/srv/medpress/var", "dev"),
    ),
    ("%s/build.json is missing: run the setup", ("/srv/medpress/public/vendor",)),
    ("%s %s %s %.1fms", ("PATCH", "/files/{upload_id}", 204, 12.5)),
    ("Running RevisionStep('0004', is_upgrade=True)", ()),
]


@pytest.mark.parametrize(("template", "args"), KEPT, ids=[t for t, _ in KEPT])
def test_the_lines_an_operator_needs_survive(template: str, args: tuple[Any, ...]) -> None:
    assert _scrubbed(template, args) == template % args


REDACTED = [
    ("name=%s size=4", (NAME,), "name=[file] size=4"),
    ("got %s", ("Maria Silva",), "got [text]"),  # free text as an argument
    ("got %r", ("Maria Silva",), "got '[text]'"),
    (f"name={NAME} size=4", (), "name=[file] size=4"),
    (f"Upload-Metadata: filename {b64(NAME)},case {b64(CASE)}", (), "Upload-Metadata: [redacted]"),
    (
        f"pairs filename {b64(NAME)},note {b64(NOTE)}",
        (),
        "pairs filename [redacted],note [redacted]",
    ),
    (f"token case={CASE} user=alice", (), "token case=[redacted] user=alice"),
    (f'{{"case": "{CASE}", "case_ref": "X-1", "size": 4}}', (), None),
    ("sent to %s", ("maria.silva@example.org",), "sent to [email]"),
    ("note '%s' kept", ("Maria",), "note '[redacted]' kept"),
    ('note "%s" kept', ("Maria",), 'note "[redacted]" kept'),
    ("with %s", (f"Bearer {mint_token(SECRET, 'alice', CASE)}",), "with Bearer [token]"),
    ("token %s", (mint_token(SECRET, "alice", CASE),), "token [token]"),
    ("claims %s", (mint_token(SECRET, "alice", CASE).split(".")[1],), "claims [token]"),
    ("failed: %s", (OSError(f"cannot open {NAME}"),), "failed: OSError"),
    ("saw %s", ("/data/inbox/scan 12.JPEG",), "saw [file]"),
    ("long %s", ("x" * 300,), "long [text]"),
    ("raw %s", (b"\x00\x01",), "raw [2 bytes]"),
]


@pytest.mark.parametrize(("template", "args", "expected"), REDACTED)
def test_what_could_name_a_patient_is_redacted(
    template: str, args: tuple[Any, ...], expected: str | None
) -> None:
    scrubbed = _scrubbed(template, args)
    if expected is not None:
        assert scrubbed == expected
    for leak in (CASE, "Silva", "X-1", "example.org", "4471.mp4"):
        assert leak not in scrubbed


def test_json_keys_and_numbers_stay_but_their_text_values_go() -> None:
    scrubbed = scrub_text(f'{{"case": "{CASE}", "reason": "{NOTE}", "size": 4}}')
    assert scrubbed == '{"case": [redacted], "reason": "[redacted]", "size": 4}'


def test_values_keep_their_type_when_safe() -> None:
    assert scrub_value(4) == 4 and scrub_value(2.5) == 2.5 and scrub_value(None) is None
    assert scrub_value(UPLOAD_ID) == UPLOAD_ID
    assert scrub_value("sqlite") == "sqlite"
    assert scrub_value(KeyError) == "KeyError"


def _raise_chained() -> None:
    try:
        raise ValueError(f"bad metadata for {NAME}")
    except ValueError as error:
        raise OSError(f"{FIRE}, case {CASE}") from error


def test_exceptions_keep_type_names_and_frames_but_not_their_messages() -> None:
    stream = io.StringIO()
    logger = _private_logger(stream)
    try:
        _raise_chained()
    except OSError:
        logger.exception("upload failed for %s", NAME)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "upload failed for [file]"
    trace = line["exception"]
    assert "ValueError: [redacted]" in trace and "OSError: [redacted]" in trace
    assert "direct cause" in trace and "_raise_chained" in trace
    assert FIRE not in trace
    assert_no_leak(json.dumps(line))


def test_a_traceback_formatted_elsewhere_loses_its_messages_too() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app.py", line 3, in run\n'
        "    open(name)\n"
        f"FileNotFoundError: [Errno 2] No such file: '{NAME}'\n"
        f"{NOTE}\n"
    )
    scrubbed = scrub_exception_text(text)
    assert "FileNotFoundError: [redacted]" in scrubbed and "/srv/app.py" in scrubbed
    assert_no_leak(scrubbed)


def test_a_record_is_scrubbed_once_whatever_formats_it() -> None:
    record = logging.LogRecord("medpress", logging.INFO, __file__, 1, "got %s", (NAME,), None)
    assert ScrubFilter().filter(record) is True
    assert record.getMessage() == "got [file]" and record.args == ()
    assert logging.Formatter().format(record) == "got [file]"
    assert ScrubFilter().filter(record) and record.getMessage() == "got [file]"


# --- the JSON formatter ---------------------------------------------------------------------


def test_one_json_object_per_line_with_the_documented_keys() -> None:
    stream = io.StringIO()
    logger = _private_logger(stream)
    logger.warning("upload removed id=%s reason=%s\nsecond line", UPLOAD_ID, "expired")
    logger.info("careless", extra={"status": NAME, "route": NAME, "request_id": "a b"})
    first, second = (json.loads(text) for text in stream.getvalue().splitlines())
    assert list(first) == ["time", "level", "logger", "message", "upload_id"]
    assert ISO_UTC.fullmatch(first["time"])
    assert (first["level"], first["logger"]) == ("WARNING", "test.structured")
    assert first["message"].endswith("second line") and first["upload_id"] == UPLOAD_ID
    assert list(second) == ["time", "level", "logger", "message"]  # unsafe extras left out


# --- the middleware, through the real app -------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Records from every logger, as the JSON lines `configure_logging` would write."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
def logged(make_settings: Callable[..., Settings]) -> Iterator[httpx.Client]:
    """A client of the real app (SQLite, filesystem) with the request log installed,
    speaking with a token that carries a case reference."""
    app = create_app(make_settings())  # app.py installs the request log
    with TestClient(app) as served:
        served.headers["Authorization"] = f"Bearer {mint_token(SECRET, 'alice', CASE)}"
        yield served


def _access(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "medpress.access"]


def test_an_upload_is_traceable_across_its_requests(
    logged: httpx.Client, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    created = logged.post(
        "/files/",
        headers={
            **TUS,
            "Upload-Length": "8",
            "Upload-Metadata": metadata(filename=NAME, reason=NOTE),
        },
    )
    assert created.status_code == 201
    upload_id = created.headers["location"].removeprefix("/files/")
    patched = logged.patch(
        f"/files/{upload_id}",
        headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "0"},
        content=b"abcd",
    )
    overridden = logged.post(
        f"/files/{upload_id}",
        headers={
            **TUS,
            "Content-Type": OCTETS,
            "Upload-Offset": "4",
            "X-HTTP-Method-Override": "PATCH",
        },
        content=b"efgh",
    )
    head = logged.head(f"/files/{upload_id}", headers={**TUS, "X-Request-ID": "lb-7f3a.2_x"})
    assert (patched.status_code, overridden.status_code, head.status_code) == (204, 204, 200)
    assert head.headers["upload-offset"] == "8" and head.headers["x-request-id"] == "lb-7f3a.2_x"

    lines = json_log()
    access = _access(lines)
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("POST", "/files", 201),
        ("PATCH", "/files/{upload_id}", 204),
        ("PATCH", "/files/{upload_id}", 204),  # the POST that said it is a PATCH
        ("HEAD", "/files/{upload_id}", 200),
    ]
    responses = (created, patched, overridden, head)
    assert [a["request_id"] for a in access] == [r.headers["x-request-id"] for r in responses]
    assert len({a["request_id"] for a in access}) == 4
    assert all(a["upload_id"] == upload_id for a in access)
    assert all(isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0 for a in access)
    chunk = next(line for line in lines if line["message"].startswith("upload chunk"))
    assert chunk["request_id"] == patched.headers["x-request-id"]
    assert (chunk["route"], chunk["upload_id"]) == ("/files/{upload_id}", upload_id)
    assert_no_leak(json.dumps(lines))


@pytest.mark.parametrize("sent", ["Maria Silva", "a" * 65, "a/b", "é"])
def test_an_unsafe_request_id_is_replaced(
    logged: httpx.Client, json_log: Callable[[], list[dict[str, Any]]], sent: str
) -> None:
    response = logged.get("/healthz", headers={"X-Request-ID": sent.encode()})
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])
    (access,) = _access(json_log())
    assert access["request_id"] == response.headers["x-request-id"]
    assert (access["route"], access["status"]) == ("/healthz", 200)


def test_tus_options_head_and_404_keep_their_shape(
    logged: httpx.Client, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    options = logged.options("/files/")
    assert options.status_code == 204 and options.headers["tus-version"] == "1.0.0"
    missing = logged.head(f"/files/{UPLOAD_ID}", headers=TUS)
    assert missing.status_code == 404 and missing.content == b""
    for response in (options, missing):
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]
    statuses = [(a["method"], a["status"]) for a in _access(json_log())]
    assert statuses == [("OPTIONS", 204), ("HEAD", 404)]


def test_a_streamed_patch_body_goes_through_untouched(
    logged: httpx.Client, json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    chunk, count = b"\x5a" * 65536, 48
    created = logged.post("/files/", headers={**TUS, "Upload-Length": str(len(chunk) * count)})
    upload_id = created.headers["location"].removeprefix("/files/")
    response = logged.patch(
        f"/files/{upload_id}",
        headers={**TUS, "Content-Type": OCTETS, "Upload-Offset": "0"},
        content=(chunk for _ in range(count)),
    )
    assert response.status_code == 204
    assert response.headers["upload-offset"] == str(len(chunk) * count)


@pytest.mark.anyio
async def test_receive_is_passed_on_as_it_is_and_nesting_logs_once(
    json_log: Callable[[], list[dict[str, Any]]],
) -> None:
    seen: list[object] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(receive)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "PATCH", "path": f"/files/{UPLOAD_ID}", "headers": []}
    await request_logging(request_logging(inner))(scope, receive, send)
    assert seen == [receive]
    assert [name for name, _ in sent[0]["headers"]] == [b"x-request-id"]
    (access,) = _access(json_log())
    assert (access["upload_id"], access["status"], access["method"]) == (UPLOAD_ID, 204, "PATCH")


class _BrokenRegistry(MemoryRegistry):
    async def get(self, upload_id: str):  # type: ignore[no-untyped-def]
        raise OSError(f"{FIRE} reading {NAME}")


def test_a_server_error_is_logged_with_its_type_and_request_not_its_message(
    make_settings: Callable[..., Settings], json_log: Callable[[], list[dict[str, Any]]]
) -> None:
    app = create_app(make_settings(), storage=MemoryStorage(), registry=_BrokenRegistry())
    with TestClient(app, raise_server_exceptions=False) as served:
        token = mint_token(SECRET, "alice", CASE)
        response = served.head(
            f"/files/{UPLOAD_ID}", headers={**TUS, "Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 500
    lines = json_log()
    (error,) = [line for line in lines if "exception" in line]
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["upload_id"] == UPLOAD_ID and "OSError: [redacted]" in error["exception"]
    (access,) = _access(lines)
    assert (access["status"], access["route"]) == (500, "/files/{upload_id}")
    assert FIRE not in json.dumps(lines)
    assert_no_leak(json.dumps(lines))


def test_this_requests_metadata_and_case_are_hidden_wherever_they_turn_up(
    json_log: Callable[[], list[dict[str, Any]]],
) -> None:
    careless = logging.getLogger("medpress.careless")

    @get("/echo/{word:str}", sync_to_thread=False)
    def echo(word: FromPath[str]) -> str:
        careless.info("word %s from case %s", word, CASE.lower().upper())
        return "ok"

    app = Litestar([echo], logging_config=None)
    app.asgi_handler = request_logging(app.asgi_handler)
    token = mint_token(SECRET, "alice", CASE)
    with TestClient(app) as served:
        response = served.get(
            "/echo/Silva",
            headers={"Authorization": f"Bearer {token}", "Upload-Metadata": metadata(n="Silva")},
        )
    assert response.status_code == 200
    (line,) = [line for line in json_log() if line["logger"] == "medpress.careless"]
    assert line["message"] == "word [redacted] from case [redacted]"
    assert line["route"] == "/echo/{word}"


# --- settings, set-up and rotation ----------------------------------------------------------


def test_log_settings_from_the_environment(tmp_path: Path) -> None:
    base = {"MEDPRESS_SECRET": SECRET}
    defaults = load_settings(base, data_dir=tmp_path)
    assert (defaults.log_level, defaults.log_file) == ("INFO", None)
    assert (defaults.log_max_bytes, defaults.log_backups) == (10 * 1024 * 1024, 5)
    chosen = load_settings(
        {
            **base,
            "MEDPRESS_LOG_LEVEL": "debug",
            "MEDPRESS_LOG_FILE": str(tmp_path / "logs/medpress.log"),
            "MEDPRESS_LOG_MAX_BYTES": "2048",
            "MEDPRESS_LOG_BACKUPS": "2",
        },
        data_dir=tmp_path,
    )
    assert chosen.log_level == "DEBUG"
    assert chosen.log_file == (tmp_path / "logs/medpress.log").resolve()
    assert (chosen.log_max_bytes, chosen.log_backups) == (2048, 2)
    for name, value in [
        ("MEDPRESS_LOG_LEVEL", "loud"),
        ("MEDPRESS_LOG_MAX_BYTES", "12"),
        ("MEDPRESS_LOG_BACKUPS", "0"),
    ]:
        with pytest.raises(SettingsError, match=name):
            load_settings({**base, name: value}, data_dir=tmp_path)


def test_the_log_file_rotates_and_keeps_only_so_many_backups(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = tmp_path / "logs" / "medpress.log"
    settings = make_settings(log_file=path, log_max_bytes=1024, log_backups=3)
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    with configure_logging(settings):
        log = logging.getLogger("medpress.tus")
        for offset in range(200):
            log.info("upload chunk id=%s offset=%d..%d", UPLOAD_ID, offset, offset + 1)
            log.info("upload named %s", NAME)
    assert (list(root.handlers), root.level) == before  # closing gives the root back
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["medpress.log", "medpress.log.1", "medpress.log.2", "medpress.log.3"]
    texts = [file.read_text() for file in path.parent.iterdir()]
    for file, text in zip(path.parent.iterdir(), texts, strict=True):
        assert file.stat().st_size <= 1024
        assert all(json.loads(line)["logger"] == "medpress.tus" for line in text.splitlines())
        assert_no_leak(text)
    assert f'"message":"upload chunk id={UPLOAD_ID} offset=199..200"' in "".join(texts)


def test_serve_writes_json_lines_to_stderr_and_undoes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_serve(app: Any, settings: Any) -> None:
        logging.getLogger("medpress.tus").info("upload named %s", NAME)

    monkeypatch.setattr("server.serving.serve", fake_serve)
    monkeypatch.setenv("MEDPRESS_SECRET", SECRET)
    for name in ("MEDPRESS_LOG_FILE", "MEDPRESS_HOST", "MEDPRESS_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    handlers = list(logging.getLogger().handlers)
    assert cli.main(["serve", "--port", "8765", "--data-dir", str(tmp_path)]) == 0
    assert logging.getLogger().handlers == handlers
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("medpress serving http://127.0.0.1:8765/") for m in messages)
    assert "upload named [file]" in messages


# --- the real server ------------------------------------------------------------------------

def test_the_real_server_logs_json_lines_an_operator_can_follow(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "medpress.log"
    server = MedpressProcess(tmp_path / "data", env={"MEDPRESS_LOG_FILE": str(log_file)})
    with server:
        token = server.token("alice", case=CASE)
        headers = {"Authorization": f"Bearer {token}", **TUS}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as client:
            created = client.post(
                "/files/",
                headers={
                    "Upload-Length": "10",
                    "Upload-Metadata": metadata(filename=NAME, reason=NOTE),
                    "X-Request-ID": "Maria Silva",
                },
            )
            assert created.status_code == 201, created.text
            location = created.headers["location"]
            upload_id = location.rsplit("/", 1)[1]
            responses = [created]
            for offset, body in ((0, b"01234"), (5, b"56789")):
                responses.append(
                    client.patch(
                        location,
                        headers={"Content-Type": OCTETS, "Upload-Offset": str(offset)},
                        content=body,
                    )
                )
            responses.append(client.head(location, headers={"X-Request-ID": "trace-42"}))
            responses.append(client.patch(location, headers={"Upload-Offset": "3"}, content=b"x"))
            assert [r.status_code for r in responses][1:4] == [204, 204, 200]
            assert responses[3].headers["upload-offset"] == "10"
    text = log_file.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(ISO_UTC.fullmatch(line["time"]) and line["level"] for line in lines)
    access = [line for line in _access(lines) if line.get("upload_id") == upload_id]
    assert [(a["method"], a["route"]) for a in access] == [
        ("POST", "/files"),
        ("PATCH", "/files/{upload_id}"),
        ("PATCH", "/files/{upload_id}"),
        ("HEAD", "/files/{upload_id}"),
        ("PATCH", "/files/{upload_id}"),
    ]
    assert [a["status"] for a in access] == [r.status_code for r in responses]
    assert [a["request_id"] for a in access] == [r.headers["x-request-id"] for r in responses]
    assert access[3]["request_id"] == "trace-42"
    assert all(isinstance(a["duration_ms"], float) for a in access)
    traced = [line for line in lines if line.get("upload_id") == upload_id]
    assert {"upload created", "upload chunk", "upload complete"} <= {
        line["message"].rsplit(" id=", 1)[0] for line in traced
    }
    assert_no_leak(text)
    assert_no_leak(server.log_path.read_text(encoding="utf-8", errors="replace"))


def _private_logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.structured")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def _scrubbed(template: str, args: tuple[Any, ...]) -> str:
    record = logging.LogRecord("medpress", logging.INFO, __file__, 1, template, args, None)
    ScrubFilter().filter(record)
    return record.getMessage()
