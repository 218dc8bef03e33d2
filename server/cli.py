"""``medpress`` command line: ``medpress serve`` runs the server (more subcommands to come)."""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("medpress")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    return args.run(args)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.settings import SettingsError, load_settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(host=args.host, port=args.port, data_dir=args.data_dir)
    except SettingsError as error:
        print(f"medpress: {error}", file=sys.stderr)
        return 2
    app = create_app(settings)
    log.info(
        "medpress serving http://%s:%d/ (data in %s)",
        settings.host,
        settings.port,
        settings.data_dir,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medpress", description=__doc__)
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    serve_parser = commands.add_parser("serve", help="run the web server (one process)")
    serve_parser.add_argument("--host", help="interface to bind (MEDPRESS_HOST, default 127.0.0.1)")
    serve_parser.add_argument(
        "--port", type=int, help="port to listen on (MEDPRESS_PORT, default 8000)"
    )
    serve_parser.add_argument(
        "--data-dir",
        type=Path,
        help="where uploads and the secret live (MEDPRESS_DATA_DIR, default ./var)",
    )
    serve_parser.set_defaults(run=serve)
    return parser


if __name__ == "__main__":
    sys.exit(main())
