"""Where upload bytes live: the `Storage` seam and its backends (S3 is imported on demand)."""

from server.storage.base import (
    ALL_CAPABILITIES,
    Capability,
    Checkpoint,
    Part,
    StaleOffsetError,
    Storage,
    StoreState,
    Verify,
    Written,
)
from server.storage.filesystem import FilesystemStorage
from server.storage.ids import is_upload_id, new_upload_id
from server.storage.memory import MemoryStorage

__all__ = [
    "ALL_CAPABILITIES",
    "Capability",
    "Checkpoint",
    "FilesystemStorage",
    "MemoryStorage",
    "Part",
    "StaleOffsetError",
    "Storage",
    "StoreState",
    "Verify",
    "Written",
    "is_upload_id",
    "new_upload_id",
]
