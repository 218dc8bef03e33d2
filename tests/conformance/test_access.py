"""Who may touch what (a medpress rule; other servers: skipped)."""

from tests.conformance.target import OCTETS, TUS, TusTarget


def test_requests_without_a_principal_are_401(tus: TusTarget, medpress_only: None) -> None:
    import httpx

    response = httpx.post(tus.url, headers={**TUS, "Upload-Length": "5"})
    assert response.status_code == 401
    assert httpx.options(tus.url).status_code in (200, 204)  # discovery stays open


def test_someone_elses_upload_is_404(tus: TusTarget, medpress_only: None) -> None:
    assert tus.other_headers is not None
    url = tus.new_upload(3)
    assert tus.patch(url, 0, b"abc").status_code == 204
    for method in ("HEAD", "PATCH", "DELETE", "GET"):
        response = tus.request(
            method, url, {"Content-Type": OCTETS, "Upload-Offset": "3"}, b"", auth=tus.other_headers
        )
        assert response.status_code == 404, method
    assert tus.download(url) == b"abc"
