"""moto's S3 server on loopback, for the S3 storage tests (started once per session)."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "medpress-test",
    "AWS_SECRET_ACCESS_KEY": "medpress-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's S3 server on a free loopback port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def aws_credentials() -> Iterator[None]:
    """Fake credentials in the environment, as an operator would set real ones."""
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def new_bucket(client: Any) -> str:
    name = f"medpress-{secrets.token_hex(6)}"
    client.create_bucket(Bucket=name)
    return name
