"""Where uploads live: the `Storage` seam and its backends."""

from server.storage.base import Capability, Storage, Upload, UploadInfo
from server.storage.filesystem import FilesystemStorage
from server.storage.ids import is_upload_id, new_upload_id
from server.storage.memory import MemoryStorage

__all__ = [
    "Capability",
    "FilesystemStorage",
    "MemoryStorage",
    "Storage",
    "Upload",
    "UploadInfo",
    "is_upload_id",
    "new_upload_id",
]
