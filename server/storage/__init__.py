"""Where uploads live: the `Storage` seam and its backends (S3 is imported on demand)."""

from server.storage.base import (
    ALL_CAPABILITIES,
    Capability,
    Lister,
    NewUpload,
    StaleOffsetError,
    Storage,
    Terminator,
    Upload,
    UploadInfo,
    create_final,
)
from server.storage.filesystem import FilesystemStorage
from server.storage.ids import is_upload_id, new_upload_id
from server.storage.memory import MemoryStorage

__all__ = [
    "ALL_CAPABILITIES",
    "Capability",
    "FilesystemStorage",
    "Lister",
    "MemoryStorage",
    "NewUpload",
    "StaleOffsetError",
    "Storage",
    "Terminator",
    "Upload",
    "UploadInfo",
    "create_final",
    "is_upload_id",
    "new_upload_id",
]
