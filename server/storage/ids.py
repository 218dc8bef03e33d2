"""Upload identifiers: 32 lowercase hex characters, nothing else.

The id is the only thing from a request that ever becomes part of a filesystem
path, so both the protocol layer and the backends check it with `is_upload_id`.
"""

import re
import secrets

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def new_upload_id() -> str:
    return secrets.token_hex(16)


def is_upload_id(value: str) -> bool:
    return _UPLOAD_ID.fullmatch(value) is not None
