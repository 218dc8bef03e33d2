"""``medpress`` command line.

medpress serve [--database-url postgresql://…] [--storage s3 --s3-bucket NAME]   run the server
medpress migrate [--database-url postgresql://…]          create or upgrade the database schema,
                                                          and import uploads of the old layout
medpress token --user NAME [--case REF] [--ttl SECONDS]   mint a Bearer token
medpress uploads                                          list uploads (admins)
medpress audit [--limit N]                                the bypass audit trail (admins)
"""

import argparse
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("medpress")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return args.run(args)


def serve(args: argparse.Namespace) -> int:
    from server import serving
    from server.app import create_app
    from server.logs import configure_logging

    settings = _settings(args)
    if settings is None:
        return 2
    # JSON lines, scrubbed, to stderr or the rotating MEDPRESS_LOG_FILE; undone on the way out.
    with configure_logging(settings):
        app = create_app(settings)
        where = (
            f"s3://{settings.s3_bucket}/{settings.s3_prefix}"
            if settings.storage == "s3"
            else str(settings.data_dir)
        )
        log.info(
            "medpress serving http://%s:%d/ (uploads in %s, auth %s)",
            settings.host,
            settings.port,
            where,
            settings.auth_mode,
        )
        serving.serve(app, settings)
    return 0


def token(args: argparse.Namespace) -> int:
    from server.auth.tokens import TokenError, mint_token

    settings = _settings(args)
    if settings is None:
        return 2
    try:
        minted = mint_token(
            settings.secret, args.user, args.case, admin=args.admin, ttl_seconds=args.ttl
        )
    except TokenError:
        print(
            "medpress: --user must be 1-64 letters, digits or . _ @ - (starting with a letter "
            "or digit); --case must be 1-128 printable ASCII characters without spaces.",
            file=sys.stderr,
        )
        return 2
    print(f"Bearer token for {args.user}, valid {args.ttl} s:", file=sys.stderr)
    print(minted)
    return 0


def migrate(args: argparse.Namespace) -> int:
    """Bring the database schema up to date, then import uploads of the old ``.info`` layout."""
    import anyio

    from server.app import create_storage
    from server.db import migrate as migrations
    from server.db.database import Database
    from server.db.legacy_import import import_legacy

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    if settings is None:
        return 2
    database = Database(settings.database)

    async def run() -> int:
        try:
            await database.open_for_migration()
            await migrations.upgrade(database.engine)
            return await import_legacy(create_storage(settings), database.registry)
        finally:
            await database.close()

    imported = anyio.run(run)
    print(
        f"database schema at {migrations.head_revision()} ({database.kind}); "
        f"{imported} uploads imported from the old layout"
    )
    return 0


def uploads(args: argparse.Namespace) -> int:
    """Admins: every upload with its owner, progress and case reference."""

    async def rows(database: Any) -> list[str]:
        lines = ["id\towner\tstate\toffset/length\tcase"]
        for info in await database.registry.listing():
            state = "finished" if info.finished else "partial"
            length = "?" if info.length is None else str(info.length)
            case = info.case_ref or "-"
            lines.append(f"{info.id}\t{info.owner}\t{state}\t{info.offset}/{length}\t{case}")
        return lines

    return _print_from_database(args, rows)


def audit(args: argparse.Namespace) -> int:
    """Admins: the bypass audit trail, newest first."""
    from server.audit.trail import AuditTrail

    async def rows(database: Any) -> list[str]:
        lines = ["at (UTC)\tprincipal\tupload\treason\tpriority\tsize"]
        for entry in await AuditTrail(database.engine).entries(args.limit):
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.at))
            size = "?" if entry.size is None else str(entry.size)
            lines.append(
                f"{at}\t{entry.principal}\t{entry.upload_id}\t{entry.reason}\t"
                f"{entry.priority}\t{size}"
            )
        return lines

    return _print_from_database(args, rows)


def _print_from_database(
    args: argparse.Namespace, rows: Callable[[Any], Awaitable[list[str]]]
) -> int:
    """Open the database the settings name, print what ``rows`` reads from it, close it."""
    import anyio

    from server.db.database import Database

    settings = _settings(args)
    if settings is None:
        return 2
    database = Database(settings.database)

    async def read() -> list[str]:
        try:
            await database.open()
            return await rows(database)
        finally:
            await database.close()

    print("\n".join(anyio.run(read)))
    return 0


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from server.settings import SettingsError, load_settings

    try:
        return load_settings(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=args.data_dir,
            storage=args.storage,
            s3_bucket=args.s3_bucket,
            s3_endpoint_url=args.s3_endpoint_url,
            database_url=args.database_url,
            flags_url=getattr(args, "flags_url", None),
        )
    except SettingsError as error:
        print(f"medpress: {error}", file=sys.stderr)
        return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medpress", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    serve_parser = commands.add_parser("serve", help="run the web server (one process)")
    serve_parser.add_argument("--host", help="interface to bind (MEDPRESS_HOST, default 127.0.0.1)")
    serve_parser.add_argument(
        "--flags-url",
        help="an Unleash server whose client API supplies the feature flags, polled with ETag "
        "(MEDPRESS_FLAGS_URL; its token in MEDPRESS_FLAGS_TOKEN; default <data-dir>/flags.json)",
    )
    serve_parser.add_argument(
        "--port", type=int, help="port to listen on (MEDPRESS_PORT, default 8000)"
    )
    _add_common(serve_parser)
    serve_parser.set_defaults(run=serve)

    token_parser = commands.add_parser(
        "token", help="mint a Bearer token (printed alone on the last line)"
    )
    token_parser.add_argument("--user", required=True, help="who the token speaks for")
    token_parser.add_argument(
        "--case", help="opaque case reference from the host clinical system (stored, never logged)"
    )
    token_parser.add_argument(
        "--admin", action="store_true", help="may read the audit trail (GET /api/audit)"
    )
    token_parser.add_argument(
        "--ttl", type=int, default=12 * 60 * 60, help="seconds the token is valid (default 12 h)"
    )
    _add_common(token_parser)
    token_parser.set_defaults(run=token)

    migrate_parser = commands.add_parser(
        "migrate", help="create or upgrade the database schema; import the old .info layout"
    )
    _add_common(migrate_parser)
    migrate_parser.set_defaults(run=migrate)

    audit_parser = commands.add_parser("audit", help="the bypass audit trail (admins)")
    audit_parser.add_argument("--limit", type=int, default=100, help="newest entries to show")
    _add_common(audit_parser)
    audit_parser.set_defaults(run=audit)

    uploads_parser = commands.add_parser(
        "uploads", help="list uploads with owner, progress and case reference (admins)"
    )
    _add_common(uploads_parser)
    uploads_parser.set_defaults(run=uploads)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where uploads and the secret live (MEDPRESS_DATA_DIR, default ./var)",
    )
    parser.add_argument(
        "--storage", choices=["filesystem", "s3"], help="MEDPRESS_STORAGE, default filesystem"
    )
    parser.add_argument("--s3-bucket", help="MEDPRESS_S3_BUCKET")
    parser.add_argument(
        "--database-url",
        help="postgresql://user:password@host:5432/db for several instances "
        "(MEDPRESS_DATABASE_URL; default SQLite in the data dir)",
    )
    parser.add_argument(
        "--s3-endpoint-url", help="an S3-compatible endpoint (MEDPRESS_S3_ENDPOINT_URL)"
    )


if __name__ == "__main__":
    sys.exit(main())
