"""The ``qorm-codegen`` command line.

::

    qorm-codegen generate (--dsn DSN | --from-dump FILE | --from-q SCRIPT) --out DIR
                          [--q-source FILE]... [--tables GLOB]... [--functions GLOB]...
                          [--namespace NS]... [--templates DIR]
    qorm-codegen dump     (--dsn DSN | --from-q SCRIPT) -o FILE [--q-source FILE]... [filters]
    qorm-codegen check    (--dsn DSN | --from-dump FILE | --from-q SCRIPT) --out DIR
                          [--q-source FILE]... [filters] [--templates DIR]

``check`` regenerates in memory exactly as ``generate`` would, so give it the same source
options and filters (``--tables``, ``--functions``, ``--namespace``, ``--templates``) as the
``generate`` it checks. Where the schema comes from does not matter, only what it is: a
package generated ``--from-q schema.q`` matches a live process holding the same schema.

Exit status: 0 on success (``check``: the package matches the schema), 1 when ``check`` finds
drift (the report names the tables, columns and functions and shows a unified diff), 2 on an
error (bad arguments, an unreachable process, a bad dump, an unwritable directory), with a
one-line message naming the culprit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from qorm import exc
from qorm.progress import Progress
from qorm_codegen import dump as dump_format
from qorm_codegen import introspect
from qorm_codegen.check import check_package
from qorm_codegen.errors import CodegenError
from qorm_codegen.qdoc import apply_docs, read_q_sources
from qorm_codegen.spec import SchemaSpec
from qorm_codegen.writer import write_package

__all__ = ["build_parser", "load_spec", "main"]

PROG = "qorm-codegen"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Typed qorm models and q_api stubs from kdb+ schemas.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="write (or update) a typed package")
    _source_options(gen, dump=True)
    gen.add_argument("--out", required=True, type=Path, metavar="DIR", help="package directory")
    _filter_options(gen)
    gen.add_argument("--templates", type=Path, metavar="DIR", help="custom template directory")

    dmp = commands.add_parser("dump", help="save a schema dump (JSON) to commit and diff")
    _source_options(dmp, dump=False)
    dmp.add_argument(
        "-o", "--output", required=True, type=Path, metavar="FILE", help="dump file to write"
    )
    _filter_options(dmp)

    chk = commands.add_parser("check", help="exit 1 if the package drifted from the schema")
    _source_options(chk, dump=True)
    chk.add_argument("--out", required=True, type=Path, metavar="DIR", help="package directory")
    _filter_options(chk)
    chk.add_argument("--templates", type=Path, metavar="DIR", help="custom template directory")
    return parser


def _source_options(parser: argparse.ArgumentParser, *, dump: bool) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--dsn", help="a live process: kdb://[user:pass@]host:port")
    if dump:
        group.add_argument("--from-dump", type=Path, metavar="FILE", help="a schema dump")
    group.add_argument(
        "--from-q",
        type=Path,
        metavar="SCRIPT",
        help="a q script: run it in an embedded engine and reflect it",
    )
    parser.add_argument(
        "--q-source",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="q file whose qDoc comments type the functions (repeatable)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for a live process"
    )


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tables", action="append", default=[], metavar="GLOB", help="tables to keep (repeatable)"
    )
    parser.add_argument(
        "--functions",
        action="append",
        default=[],
        metavar="GLOB",
        help="functions to keep (repeatable)",
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="namespaces to reflect, '.' for the root (repeatable; default: all user namespaces)",
    )


def load_spec(args: argparse.Namespace, progress: Progress | None = None) -> SchemaSpec:
    """The schema the parsed arguments point at, with qDoc applied and filters selected."""
    progress = progress or Progress()
    q_sources: list[Path] = list(args.q_source)
    source = args.dsn or getattr(args, "from_dump", None) or args.from_q
    progress.step(f"reading the schema from {source}")
    if args.dsn:
        spec = introspect.reflect_dsn(args.dsn, args.namespace, timeout=args.timeout)
    elif getattr(args, "from_dump", None):
        spec = dump_format.load(args.from_dump)
    else:
        spec = introspect.reflect_q_script(args.from_q, args.namespace)
        q_sources.insert(0, args.from_q)
    if q_sources:
        progress.step(f"reading qDoc from {len(q_sources)} q file(s)")
        spec = apply_docs(spec, read_q_sources(q_sources))
    return spec.select(args.tables, args.functions, args.namespace)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``qorm-codegen`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "dump":
            return _dump(args)
        return _check(args)
    except (CodegenError, exc.QormError, OSError, NotImplementedError) as e:
        print(f"{PROG}: error: {_describe(e)}", file=sys.stderr)
        return 2


def _describe(error: BaseException) -> str:
    if isinstance(error, exc.ConnectionError):
        return f"cannot reach the q process: {error}"
    if isinstance(error, exc.QError):
        return f"the q process reported an error while reflecting: {error}"
    return str(error)


def _generate(args: argparse.Namespace) -> int:
    with Progress() as progress:
        spec = load_spec(args, progress)
        progress.step(
            f"generating {len(spec.tables)} models and {len(spec.functions)} stubs in {args.out}"
        )
        plans = write_package(spec, args.out, args.templates)
    for item in plans:
        for warning in item.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
    changed = sorted(p.path.name for p in plans if p.changed)
    summary = f"{len(spec.tables)} tables, {len(spec.functions)} functions"
    if changed:
        print(f"{args.out}: wrote {', '.join(changed)} ({summary})")
    else:
        print(f"{args.out}: up to date ({summary})")
    return 0


def _dump(args: argparse.Namespace) -> int:
    spec = load_spec(args)
    try:
        dump_format.write(spec, args.output)
    except OSError as e:
        raise CodegenError(f"cannot write {args.output}: {e.strerror or e}") from e
    print(f"{args.output}: {len(spec.tables)} tables, {len(spec.functions)} functions")
    return 0


def _check(args: argparse.Namespace) -> int:
    spec = load_spec(args)
    if not Path(args.out).is_dir():
        print(f"{PROG}: {args.out} does not exist: run `{PROG} generate` first", file=sys.stderr)
        return 1
    with Progress() as progress:
        progress.step(f"comparing {args.out} with the schema")
        report = check_package(spec, args.out, args.templates)
    if report.ok:
        print(f"{args.out}: matches the schema ({spec.digest()})")
        return 0
    sys.stdout.write(report.format())
    return 1
