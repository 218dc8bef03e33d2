"""The tus 1.0 upload endpoint: catalogue of errors, pure parsing, protocol, Litestar adapter."""
