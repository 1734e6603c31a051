"""``qorm serve``: run the embedded q engine as a kdb+-compatible server in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qorm serve",
        description="Serve the embedded q engine over kdb+ IPC (foreground; Ctrl-C stops it).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", "-p", type=int, default=5000, help="TCP port (0: any free)")
    parser.add_argument(
        "--users",
        "-u",
        metavar="FILE",
        help="file of user:password lines; passwords plain or hashed as sha256:<hex>, "
        "sha1:<hex>, md5:<hex> (python -m qorm.embedded.auth USER makes a line)",
    )
    parser.add_argument("--load", metavar="SCRIPT", help="q script to run before serving")
    parser.add_argument("--unix", metavar="PATH", help="also listen on this Unix socket path")
    parser.add_argument(
        "--max-message-size", type=int, default=2**30, help="largest message accepted (bytes)"
    )
    parser.add_argument("--tls-cert", metavar="PEM", help="serve TLS with this certificate chain")
    parser.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    parser.add_argument(
        "--max-connections", type=int, default=None, help="most connections at once (default: any)"
    )
    parser.add_argument(
        "--max-pending", type=int, default=64, help="most connections not yet logged in"
    )
    parser.add_argument(
        "--handshake-timeout",
        type=float,
        default=10.0,
        help="seconds a new connection has to finish TLS and the login",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        help="drop logged-in clients silent this many seconds (default: never, as kdb+)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="log warnings only")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every connection")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qorm serve``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from qorm.embedded.server import EmbeddedServer
    from qorm.exc import QormError

    if (args.tls_cert is None) != (args.tls_key is None):
        print("qorm serve: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    tls = (args.tls_cert, args.tls_key) if args.tls_cert is not None else None
    try:
        server = EmbeddedServer(
            port=args.port,
            host=args.host,
            users=args.users,
            load=args.load,
            unix=args.unix,
            max_message_size=args.max_message_size,
            tls=tls,
            max_connections=args.max_connections,
            max_pending=args.max_pending,
            handshake_timeout=args.handshake_timeout,
            idle_timeout=args.idle_timeout,
        )
    except (OSError, ValueError, NotImplementedError) as e:
        print(f"qorm serve: {e}", file=sys.stderr)
        return 2

    def on_term(signum: int, frame: object) -> None:
        server.stop()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logging.getLogger("qorm.embedded.server").info("interrupted, stopping")
    except (OSError, ValueError, NotImplementedError) as e:
        print(f"qorm serve: {e}", file=sys.stderr)
        return 2
    except QormError as e:  # the --load script failed
        print(f"qorm serve: {args.load}: {e}", file=sys.stderr)
        return 2
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":  # python -m qorm.embedded.serve_cli
    sys.exit(main())
