"""The tus server under test, seen only over HTTP: a base URL and request headers."""

import base64
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


@dataclass
class TusTarget:
    url: str  # the creation endpoint, e.g. http://127.0.0.1:8000/files/
    headers: dict[str, str] = field(default_factory=dict)  # auth, sent with every request
    is_medpress: bool = False
    other_headers: dict[str, str] | None = None  # a second principal, if the server has them
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(headers=self.headers, timeout=60)

    def close(self) -> None:
        self.client.close()

    # requests

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        content: object = None,
        tus: bool = True,
        auth: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request; ``headers`` as a list sends repeated names as separate lines."""
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        sent = httpx.Headers([*(TUS.items() if tus else []), *pairs])
        if auth is not None:  # another principal instead of the default one
            sent.update(auth)
            return httpx.request(method, url, headers=sent, content=content, timeout=60)  # type: ignore[arg-type]
        return self.client.request(method, url, headers=sent, content=content)  # type: ignore[arg-type]

    def options(self) -> httpx.Response:
        return self.client.options(self.url)

    def create(self, length: int | None, **headers: str) -> httpx.Response:
        sent = dict(headers)
        if length is not None:
            sent["Upload-Length"] = str(length)
        return self.request("POST", self.url, sent)

    def new_upload(self, length: int, **headers: str) -> str:
        response = self.create(length, **headers)
        assert response.status_code == 201, response.text
        return self.location(response)

    def location(self, response: httpx.Response) -> str:
        assert "location" in response.headers, response.headers
        return urljoin(self.url, response.headers["location"])

    def head(self, url: str, **headers: str) -> httpx.Response:
        return self.request("HEAD", url, headers)

    def patch(self, url: str, offset: int, body: object, **headers: str) -> httpx.Response:
        sent = {"Content-Type": OCTETS, "Upload-Offset": str(offset), **headers}
        return self.request("PATCH", url, sent, body)

    def offset(self, url: str) -> int:
        response = self.head(url)
        assert response.status_code == 200, response.status_code
        return int(response.headers["Upload-Offset"])

    def download(self, url: str) -> bytes | None:
        """The upload's bytes via GET, or ``None`` if the server offers no downloads."""
        response = self.client.get(url)
        if response.status_code in (404, 405, 501) and not self.is_medpress:
            return None
        assert response.status_code == 200, response.status_code
        return response.content

    # discovery

    def extensions(self) -> set[str]:
        raw = self.options().headers.get("Tus-Extension", "")
        return {item.strip() for item in raw.split(",") if item.strip()}


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())
