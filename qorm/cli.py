"""The ``qorm`` command: ``qorm demo``, ``qorm serve``, ``qorm q``.

Each subcommand lives in its own module and is imported only when it runs, so ``qorm --help``
stays fast and a missing optional dependency only affects the subcommand that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: subcommand -> (module with a ``main(argv) -> int``, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "qorm.demo",
        "run the end-to-end example on the embedded engine (codegen, type check, ORM queries)",
    ),
    "serve": ("qorm.embedded.serve_cli", "run an embedded kdb+-compatible q server"),
    "q": ("qorm.embedded.repl", "open an interactive q console (embedded, or --port to connect)"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser; subcommand options are parsed by the subcommand itself."""
    parser = argparse.ArgumentParser(
        prog="qorm",
        description="qorm: a typed Python ORM for q/kdb+, with an embedded q engine.",
        epilog="Run 'qorm COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qorm`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args or args[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    if args[0] == "--version":
        from qorm import __version__

        print(f"qorm {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        parser.error(f"unknown command {name!r} (choose from {', '.join(SUBCOMMANDS)})")
    module = importlib.import_module(SUBCOMMANDS[name][0])
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
