"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for the server benchmarks.

Python HTTP clients cost more CPU than the server under test on a 2-core box;
this one hands bodies to the socket as they are, so the figures measure the server.
"""

from __future__ import annotations

import asyncio
from typing import Self

OCTETS = "application/offset+octet-stream"


class RawConnection:
    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self._auth = f"Bearer {token}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Self:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._writer is not None
        self._writer.close()
        await self._writer.wait_closed()

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"Authorization: {self._auth}", "Tus-Resumable: 1.0.0"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        if body:
            self._writer.write(body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        response_headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                response_headers[name.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", "0"))
        content = await self._reader.readexactly(length) if method != "HEAD" else b""
        return int(status_line.split(" ")[1]), response_headers, content

    async def create(self, size: int) -> str:
        status, headers, _ = await self.request("POST", "/files/", {"Upload-Length": str(size)})
        assert status == 201, status
        return headers["location"]

    async def patch(self, url: str, offset: int, body: bytes) -> None:
        status, _, content = await self.request(
            "PATCH", url, {"Content-Type": OCTETS, "Upload-Offset": str(offset)}, body
        )
        assert status == 204, (status, content)


def percentile(sorted_values: list[float], percent: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(percent / 100 * len(sorted_values)) - 1))
    return sorted_values[index]
