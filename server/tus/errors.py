"""Every error the tus endpoint can answer with, in one catalogue.

Like tusd's ``pkg/handler/error.go``: each entry has a stable code (for clients
and logs), an HTTP status and a plain-language message that says what to do next.
Messages never contain metadata values, so they are safe to log.

    Exception
    └── TusError            raised by the protocol layer, carries one `ErrorKind`
                            and optionally a more specific message

The Litestar adapter turns a `TusError` into a JSON body ``{"code", "message"}``.
"""

import msgspec

TUS_VERSION = "1.0.0"


class ErrorKind(msgspec.Struct, frozen=True):
    code: str
    status: int
    message: str
    headers: tuple[tuple[str, str], ...] = ()


class TusError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.message = message or kind.message
        self.headers = {**dict(kind.headers), **(headers or {})}
        super().__init__(f"{kind.code}: {self.message}")

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def status(self) -> int:
        return self.kind.status


UNSUPPORTED_VERSION = ErrorKind(
    "ERR_UNSUPPORTED_VERSION",
    412,
    f"This server speaks tus {TUS_VERSION}; send 'Tus-Resumable: {TUS_VERSION}'.",
    headers=(("Tus-Version", TUS_VERSION),),
)
NOT_SIGNED_IN = ErrorKind(
    "ERR_NOT_SIGNED_IN", 401, "You are not signed in. Reload the page and try the upload again."
)
UPLOAD_NOT_FOUND = ErrorKind(
    "ERR_UPLOAD_NOT_FOUND", 404, "This upload does not exist. Start the upload again."
)
DUPLICATE_HEADER = ErrorKind("ERR_DUPLICATE_HEADER", 400, "A header was sent more than once.")
INVALID_UPLOAD_LENGTH = ErrorKind(
    "ERR_INVALID_UPLOAD_LENGTH", 400, "Upload-Length must be a whole number of bytes."
)
DEFER_LENGTH_UNSUPPORTED = ErrorKind(
    "ERR_DEFER_LENGTH_UNSUPPORTED",
    400,
    "This server needs Upload-Length when an upload is created.",
)
MAX_SIZE_EXCEEDED = ErrorKind(
    "ERR_MAX_SIZE_EXCEEDED", 413, "The file is larger than this server accepts."
)
INVALID_METADATA = ErrorKind(
    "ERR_INVALID_METADATA", 400, "Upload-Metadata is not valid tus metadata."
)
METADATA_KEY_NOT_ALLOWED = ErrorKind(
    "ERR_METADATA_KEY_NOT_ALLOWED", 400, "Upload-Metadata has a key this server does not accept."
)
METADATA_TOO_LARGE = ErrorKind("ERR_METADATA_TOO_LARGE", 400, "Upload-Metadata is too large.")
INVALID_CONTENT_TYPE = ErrorKind(
    "ERR_INVALID_CONTENT_TYPE",
    415,
    "Send upload data with 'Content-Type: application/offset+octet-stream'.",
)
INVALID_OFFSET = ErrorKind(
    "ERR_INVALID_OFFSET", 400, "Upload-Offset must be a whole number of bytes."
)
INVALID_CONTENT_LENGTH = ErrorKind(
    "ERR_INVALID_CONTENT_LENGTH", 400, "Content-Length must be a whole number of bytes."
)
MISMATCHED_OFFSET = ErrorKind(
    "ERR_MISMATCHED_OFFSET",
    409,
    "Upload-Offset does not match what the server has; ask with HEAD and resume from there.",
)
UPLOAD_LOCKED = ErrorKind(
    "ERR_UPLOAD_LOCKED", 423, "This upload is receiving data on another connection; retry shortly."
)
UPLOAD_SIZE_EXCEEDED = ErrorKind(
    "ERR_UPLOAD_SIZE_EXCEEDED", 413, "More data was sent than the upload's declared length."
)
UPLOAD_NOT_FINISHED = ErrorKind(
    "ERR_UPLOAD_NOT_FINISHED",
    409,
    "This upload is not finished yet; it can be downloaded once complete.",
)
INVALID_DEFER_LENGTH = ErrorKind(
    "ERR_INVALID_DEFER_LENGTH",
    400,
    "Send either Upload-Length or 'Upload-Defer-Length: 1', not both and not neither.",
)
LENGTH_ALREADY_SET = ErrorKind(
    "ERR_LENGTH_ALREADY_SET", 400, "This upload's length is already set and cannot change."
)
METADATA_NOT_WITH_LENGTH = ErrorKind(
    "ERR_METADATA_NOT_WITH_LENGTH",
    400,
    "A PATCH may carry Upload-Metadata only with the Upload-Length it declares for an upload "
    "created with 'Upload-Defer-Length: 1', and only keys the upload does not have yet.",
)
LENGTH_BELOW_OFFSET = ErrorKind(
    "ERR_LENGTH_BELOW_OFFSET", 400, "Upload-Length is smaller than what was already received."
)
UNSUPPORTED_CHECKSUM_ALGORITHM = ErrorKind(
    "ERR_UNSUPPORTED_CHECKSUM_ALGORITHM",
    400,
    "Upload-Checksum uses an algorithm this server does not support; see Tus-Checksum-Algorithm.",
)
INVALID_CHECKSUM = ErrorKind(
    "ERR_INVALID_CHECKSUM", 400, "Upload-Checksum must be '<algorithm> <base64 digest>'."
)
CHECKSUM_MISMATCH = ErrorKind(
    "ERR_CHECKSUM_MISMATCH",
    460,
    "The chunk does not match its Upload-Checksum, so it was discarded; send it again.",
)
UPLOAD_EXPIRED = ErrorKind(
    "ERR_UPLOAD_EXPIRED", 410, "This upload expired before it was finished. Start it again."
)
MODIFY_FINAL = ErrorKind(
    "ERR_MODIFY_FINAL", 403, "A concatenated (final) upload cannot receive more data."
)
INVALID_CONCAT = ErrorKind(
    "ERR_INVALID_CONCAT",
    400,
    "Upload-Concat must be 'partial' or 'final;' followed by the URLs of finished partial uploads.",
)
EXTENSION_NOT_SUPPORTED = ErrorKind(
    "ERR_EXTENSION_NOT_SUPPORTED", 400, "This server does not support that tus extension."
)
METHOD_NOT_ALLOWED = ErrorKind(
    "ERR_METHOD_NOT_ALLOWED", 405, "This method is not supported on this resource."
)
RANGE_NOT_SATISFIABLE = ErrorKind(
    "ERR_RANGE_NOT_SATISFIABLE", 416, "The requested byte range is outside the file."
)
TOO_MANY_UPLOADS = ErrorKind(
    "ERR_TOO_MANY_UPLOADS",
    429,
    "You have many uploads in progress; let them finish (or cancel some), then try again.",
    headers=(("Retry-After", "60"),),
)
DAILY_LIMIT_REACHED = ErrorKind(
    "ERR_DAILY_LIMIT_REACHED",
    429,
    "You have sent as much as this server accepts in a day; try later or ask an administrator.",
    headers=(("Retry-After", "3600"),),
)
STORAGE_UNAVAILABLE = ErrorKind(
    "ERR_STORAGE_UNAVAILABLE",
    503,
    "Your data is safe, but storage is not answering right now; retry in a few seconds.",
    headers=(("Retry-After", "5"),),
)

CATALOGUE: tuple[ErrorKind, ...] = (
    UNSUPPORTED_VERSION,
    NOT_SIGNED_IN,
    UPLOAD_NOT_FOUND,
    DUPLICATE_HEADER,
    INVALID_UPLOAD_LENGTH,
    DEFER_LENGTH_UNSUPPORTED,
    MAX_SIZE_EXCEEDED,
    INVALID_METADATA,
    METADATA_KEY_NOT_ALLOWED,
    METADATA_TOO_LARGE,
    INVALID_CONTENT_TYPE,
    INVALID_OFFSET,
    INVALID_CONTENT_LENGTH,
    MISMATCHED_OFFSET,
    UPLOAD_LOCKED,
    UPLOAD_SIZE_EXCEEDED,
    UPLOAD_NOT_FINISHED,
    INVALID_DEFER_LENGTH,
    LENGTH_ALREADY_SET,
    METADATA_NOT_WITH_LENGTH,
    LENGTH_BELOW_OFFSET,
    UNSUPPORTED_CHECKSUM_ALGORITHM,
    INVALID_CHECKSUM,
    CHECKSUM_MISMATCH,
    UPLOAD_EXPIRED,
    MODIFY_FINAL,
    INVALID_CONCAT,
    EXTENSION_NOT_SUPPORTED,
    METHOD_NOT_ALLOWED,
    RANGE_NOT_SATISFIABLE,
    TOO_MANY_UPLOADS,
    DAILY_LIMIT_REACHED,
    STORAGE_UNAVAILABLE,
)
