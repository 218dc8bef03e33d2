"""The app factory: wires settings, storage, principals and routes into one Litestar app."""

from litestar import Litestar
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from server.health import healthz
from server.isolation_headers import add_isolation_headers
from server.principal import Principals
from server.settings import Settings
from server.site import Site
from server.static import create_static_router
from server.storage import FilesystemStorage, Storage
from server.tus.controller import add_tus_resumable, create_tus_router
from server.tus.errors import TusError
from server.tus.protocol import TusProtocol


def create_app(settings: Settings, *, storage: Storage | None = None) -> Litestar:
    """Build the app; ``storage`` defaults to `FilesystemStorage` under ``<data_dir>/uploads``."""
    site = Site.load(settings.public_dir)
    principals = Principals(settings.secret)
    tus = TusProtocol(storage or FilesystemStorage(settings.uploads_dir), settings.max_upload_size)

    def provide_site() -> Site:
        return site

    def provide_principals() -> Principals:
        return principals

    return Litestar(
        route_handlers=[healthz, create_tus_router(tus, principals), create_static_router()],
        dependencies={
            "site": Provide(provide_site, sync_to_thread=False),
            "principals": Provide(provide_principals, sync_to_thread=False),
        },
        before_send=[add_isolation_headers, add_tus_resumable],
        # JSON only: the HTML viewers load their scripts from a CDN, and nothing here may.
        openapi_config=OpenAPIConfig(
            title="medpress", version="0.1.0", path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
        logging_config=_logging_config(),
    )


def _logging_config() -> LoggingConfig:
    """Tracebacks for server errors only, sent to the root logger the CLI (or pytest) set up."""
    return LoggingConfig(
        configure_root_logger=False,
        loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
        log_exceptions="always",
        disable_stack_trace={TusError, *range(400, 500)},
    )
