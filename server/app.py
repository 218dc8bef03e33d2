"""The app factory: wires settings, database, storage, principals and routes into one app."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from server import faults
from server.analytics.controller import create_analytics_router
from server.analytics.store import AnalyticsStore, retention
from server.audit.controller import create_audit_router
from server.audit.trail import AuditTrail
from server.audit.webhook import webhook_notifier
from server.auth.principal import Principals
from server.db.database import Database
from server.db.legacy_import import import_legacy
from server.db.registry import Registry
from server.flags.controller import create_flags_router
from server.flags.store import FlagStore, flag_watcher
from server.logs import request_logging
from server.settings import Settings
from server.storage import FilesystemStorage, Storage
from server.tus.controller import add_tus_resumable, create_tus_router
from server.tus.errors import TusError
from server.tus.expiry import sweeper
from server.tus.locks import UploadLocks
from server.tus.protocol import TusProtocol
from server.tus.quotas import Quotas
from server.web.health import healthz, readiness, readyz
from server.web.isolation_headers import add_isolation_headers
from server.web.method_override import method_override
from server.web.site import Site
from server.web.static import create_static_router

log = logging.getLogger("medpress")

TUS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Tus-Resumable",
    "Upload-Length",
    "Upload-Offset",
    "Upload-Metadata",
    "Upload-Defer-Length",
    "Upload-Concat",
    "Upload-Checksum",
    "X-HTTP-Method-Override",
    "X-Requested-With",
    "X-Request-ID",
    "Range",
]
TUS_RESPONSE_HEADERS = [
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Defer-Length",
    "Upload-Concat",
    "Upload-Expires",
    "Content-Range",
    "Accept-Ranges",
    "X-Request-ID",
]


def create_storage(settings: Settings) -> Storage:
    """The backend the settings name: filesystem under ``<data_dir>/uploads``, or S3."""
    if settings.storage == "s3":
        from server.storage.s3 import S3Storage, make_client

        assert settings.s3_bucket is not None
        return S3Storage(
            make_client(settings.s3_endpoint_url),
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            part_size=settings.s3_part_size,
        )
    return FilesystemStorage(settings.uploads_dir, checkpoint_seconds=settings.checkpoint_seconds)


def create_app(
    settings: Settings, *, storage: Storage | None = None, registry: Registry | None = None
) -> Litestar:
    """Build the app; ``storage`` defaults to `create_storage(settings)` and ``registry`` to
    the database ``settings`` name (opened in the app's lifespan)."""
    faults.arm(settings.faults)
    site = Site.load(settings.public_dir)
    principals = Principals(
        settings.secret, settings.auth_mode, secure_cookie=settings.behind_https
    )
    storage = storage or create_storage(settings)
    database = None
    trail = None
    flag_store = None
    analytics = None
    if registry is None:
        database = Database(
            settings.database,
            pool_size=settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout,
        )
        registry = database.registry
        notify = (
            webhook_notifier(settings.bypass_webhook_url) if settings.bypass_webhook_url else None
        )
        trail = AuditTrail(database.engine, notify)
        flag_store = FlagStore(database.engine, settings.data_dir, unleash_url=settings.flags_url,
                               unleash_token=settings.flags_token)
        analytics = AnalyticsStore(database.engine, settings.analytics_retention_days * 86400)
    tus = TusProtocol(
        storage,
        registry,
        settings.max_upload_size,
        expiry=settings.upload_expiry,
        quotas=Quotas(
            registry,
            max_active=settings.max_active_uploads,
            max_bytes_per_day=settings.max_bytes_per_day,
            expiry=settings.upload_expiry,
        ),
        on_created=trail.upload_created if trail else None,
        locks=UploadLocks(
            wait=settings.lock_wait,
            stale_after=settings.lock_stale_after,
            shared=database.shared_locks if database else None,
        ),
    )

    def provide_site() -> Site:
        return site

    def provide_principals() -> Principals:
        return principals

    @asynccontextmanager
    async def open_database(_: Litestar) -> AsyncIterator[None]:
        if database is None:
            yield
            return
        try:
            await database.open()
            if database.kind == "sqlite":  # the embedded default upgrades an old ./var itself
                await import_legacy(storage, database.registry)
            yield
        finally:
            await database.close()

    async def database_ready() -> bool:
        return True if database is None else await database.is_ready()

    async def storage_ready() -> bool:
        try:
            await storage.ping()
        except Exception as error:  # noqa: BLE001 - any failure means not ready
            log.warning("storage not ready: %s", type(error).__name__)
            return False
        return True

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            create_tus_router(tus, principals),
            *([create_audit_router(trail)] if trail else []),
            *([create_flags_router(flag_store)] if flag_store else []),
            *([create_analytics_router(analytics)] if analytics else []),
            create_static_router(),
        ],
        dependencies={
            "site": Provide(provide_site, sync_to_thread=False),
            "principals": Provide(provide_principals, sync_to_thread=False),
        },
        before_send=[add_isolation_headers, add_tus_resumable],
        cors_config=_cors_config(settings),
        lifespan=[
            open_database,
            sweeper(tus, settings.sweep_interval),
            *([flag_watcher(flag_store)] if flag_store else []),
            *([retention(analytics)] if analytics else []),
        ],
        # JSON only: the HTML viewers load their scripts from a CDN, and nothing here may.
        openapi_config=OpenAPIConfig(
            title="medpress",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
        logging_config=_logging_config(),
    )
    app.state.tus = tus
    app.state.registry = registry
    app.state.trail = trail
    app.state.flags = flag_store
    app.state.readiness = readiness(database_ready, storage_ready)
    # Inside the override, so a POST sent as a PATCH is logged as the PATCH it is.
    app.asgi_handler = method_override(request_logging(app.asgi_handler))
    return app


def _cors_config(settings: Settings) -> CORSConfig | None:
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=TUS_REQUEST_HEADERS,
        expose_headers=TUS_RESPONSE_HEADERS,
        max_age=86400,
    )


def _logging_config() -> LoggingConfig:
    """Tracebacks for server errors only, sent to the root logger the CLI (or pytest) set up."""
    return LoggingConfig(
        configure_root_logger=False,
        loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
        log_exceptions="always",
        disable_stack_trace={TusError, *range(400, 500)},
    )
