"""tus checksum extension: ``Upload-Checksum: <algorithm> <base64 digest>`` (pure).

The digest is computed while the chunk streams through; the storage calls
`ChunkChecksum.verify` before it records the new offset, so a mismatching chunk
is discarded whole (460) and the offset stays where it was.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import AsyncIterable, AsyncIterator

from server.tus import errors
from server.tus.errors import TusError

ALGORITHMS = ("sha1", "sha256", "md5")


class ChunkChecksum:
    def __init__(self, algorithm: str, expected: bytes) -> None:
        self.algorithm = algorithm
        self._expected = expected
        self._hash = hashlib.new(algorithm, usedforsecurity=False)

    @classmethod
    def parse(cls, header: str) -> "ChunkChecksum":
        algorithm, _, encoded = header.strip().partition(" ")
        if algorithm not in ALGORITHMS:
            if not algorithm or not encoded:
                raise TusError(errors.INVALID_CHECKSUM)
            raise TusError(errors.UNSUPPORTED_CHECKSUM_ALGORITHM)
        try:
            expected = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise TusError(errors.INVALID_CHECKSUM) from None
        checksum = cls(algorithm, expected)
        if len(expected) != checksum._hash.digest_size:
            raise TusError(errors.INVALID_CHECKSUM)
        return checksum

    async def feed(self, body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in body:
            self._hash.update(chunk)
            yield chunk

    def verify(self) -> None:
        if not hmac.compare_digest(self._hash.digest(), self._expected):
            raise TusError(errors.CHECKSUM_MISMATCH)
